"""Business dates at the command line: the horizon, the open date, backdated money and a
reversal that needs a second person, each refusal in one line that changes nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest

from lendflow.bootstrap import open_workspace
from lendflow.close_of_business.sweep import close_range
from lendflow.config.cob import load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")
NATIONAL_ID = sample_national_id(date(1990, 5, 17), 321)


@pytest.fixture
def loan(lendflow, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Loan 1 paid out on 2026-01-12 and closed through 2026-03-20."""
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    assert (
        lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05").exit_code == 0
    )
    applied = lendflow(
        f"loan apply --consent all --product cash-easy --name 王五 --id-number {NATIONAL_ID}"
        " --phone 13812345678 --monthly-income 8000 --amount 10000 --term 3 --on 2026-01-10"
    )
    assert applied.stdout.strip() == "1", applied.stderr
    assert lendflow("loan review 1 --on 2026-01-10").exit_code == 0
    assert lendflow("loan approve 1 --as risk --on 2026-01-11").exit_code == 0
    assert lendflow("loan disburse 1 --on 2026-01-12").exit_code == 0
    ws = open_workspace()
    close_range(ws, 1, 1, date(2026, 1, 12), date(2026, 3, 20), "cob", load_cob_config())
    ws.close()
    return lendflow


def shown(lendflow) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(lendflow("loan show 1 --json").stdout)


def test_a_date_decades_ahead_is_refused_in_one_line(loan) -> None:  # type: ignore[no-untyped-def]
    before = shown(loan)
    result = loan("loan repay 1 --amount 1060 --on 2062-02-12")
    assert result.exit_code == 2
    assert "2062-02-12 is after 2028-01-01" in result.error()
    assert shown(loan) == before


def test_money_after_the_open_date_says_what_to_close(loan) -> None:  # type: ignore[no-untyped-def]
    result = loan("loan repay 1 --amount 100 --on 2026-05-01")
    assert result.exit_code == 2
    assert "its open business date is 2026-03-21: close 2026-03-21 … 2026-04-30" in result.error()


def test_backdated_money_then_a_reversal_approved_by_another(loan) -> None:  # type: ignore[no-untyped-def]
    before = shown(loan)
    into_closed = loan("loan repay 1 --amount 500 --on 2026-02-20")
    assert into_closed.exit_code == 2 and "--backdated" in into_closed.error()
    paid = loan("loan repay 1 --amount 500 --on 2026-02-20 --backdated --idempotency-key BANK-2")
    assert paid.exit_code == 0, paid.stderr
    assert shown(loan)["outstanding"] != before["outstanding"]
    asked = loan('loan reverse-repayment 1 --transaction BANK-2 --reason "bounced" --json')
    assert asked.exit_code == 0, asked.stderr
    assert asked.json()["status"] == "pending" and asked.json()["amount"] == "500.00"
    same_person = loan("loan approve-reversal 1")
    assert same_person.exit_code == 1 and "four eyes" in same_person.error()
    approved = loan("loan approve-reversal 1 --as admin")
    assert approved.exit_code == 0, approved.stderr
    after = shown(loan)
    assert after["outstanding"] == before["outstanding"]
    assert (after["dpd"], after["state"]) == (before["dpd"], before["state"])
    assert loan("audit verify --as auditor").exit_code == 0
