"""Consents at the command line: given with `loan apply --consent`, listed, withdrawn."""

from __future__ import annotations

import json

import pytest

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")
NATIONAL_ID = sample_national_id(__import__("datetime").date(1990, 5, 17), 654)
APPLY = (
    f"loan apply --product cash-easy --name 王五 --id-number {NATIONAL_ID} --phone 13812345678"
    " --monthly-income 8000 --amount 10000 --term 3 --on 2026-01-10"
)


@pytest.fixture
def desk(lendflow, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    assert (
        lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05").exit_code == 0
    )
    return lendflow


def test_consents_from_apply_to_withdrawal(desk) -> None:  # type: ignore[no-untyped-def]
    none = desk(APPLY)
    assert none.exit_code == 1
    assert none.stderr.strip() == (
        "error: refused by rule CONSENT_REQUIRED: the applicant has not given consent to"
        " personal_information, sensitive_personal_information"
    )
    odd = desk(f"{APPLY} --consent marketing")
    assert odd.exit_code == 2 and "unknown consent 'marketing'" in odd.stderr
    given = desk(
        f"{APPLY} --consent personal_information --consent sensitive_personal_information"
        " --consent credit_check --consent-language en"
    )
    assert given.exit_code == 0, given.stderr
    listed = json.loads(desk("consent list 1 --json").stdout)
    assert [(c["name"], c["locale"], c["channel"]) for c in listed] == [
        ("credit_check", "en", "terminal"),
        ("personal_information", "en", "terminal"),
        ("sensitive_personal_information", "en", "terminal"),
    ]
    gone = desk("consent withdraw 1 credit_check --on 2026-01-10")
    assert gone.stdout.strip() == "consent credit_check of loan 1 withdrawn on 2026-01-10"
    review = desk("loan review 1 --on 2026-01-10")
    assert review.exit_code == 1 and "no credit_check consent in force" in review.stderr
