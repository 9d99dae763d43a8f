"""`loan prepay` and `loan schedule-versions` at the command line.

Loan 1: cash-easy's terms under a product that re-amortises on a prepayment
(`prepayment: reduce_instalment`): 10,000.00 over 6 months at 15.60%, paid out 2026-01-12,
instalment 1 (1,753.32) paid on 2026-02-12, then 4,000.00 prepaid that day (the figures are
worked by hand in tests/service/test_prepayments.py): the instalment goes from 1,743.32 to
911.85 and the interest not yet due from 329.90 to 172.55.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lendflow.bootstrap import open_workspace
from lendflow.close_of_business.sweep import close_range
from lendflow.config.cob import load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")
NATIONAL_ID = sample_national_id(date(1990, 5, 17), 322)


@pytest.fixture
def loan(lendflow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    spec = tmp_path / "cash-less.yaml"
    spec.write_text(
        CASH_EASY.read_text(encoding="utf-8").replace("code: cash-easy", "code: cash-less")
        + "prepayment: reduce_instalment\n",
        encoding="utf-8",
    )
    assert lendflow("init").exit_code == 0
    for path in (CASH_EASY, spec):
        assert (
            lendflow(f"product import {path} --activate --as admin --on 2026-01-05").exit_code == 0
        )
    applied = lendflow(
        f"loan apply --consent all --product cash-less --name 王五 --id-number {NATIONAL_ID}"
        " --phone 13812345678 --monthly-income 8000 --amount 10000 --term 6 --on 2026-01-10"
    )
    assert applied.stdout.strip() == "1", applied.stderr
    assert lendflow("loan review 1 --on 2026-01-10").exit_code == 0
    assert lendflow("loan approve 1 --as risk --on 2026-01-11").exit_code == 0
    assert lendflow("loan disburse 1 --on 2026-01-12").exit_code == 0
    ws = open_workspace()
    close_range(ws, 1, 1, date(2026, 1, 12), date(2026, 2, 11), "cob", load_cob_config())
    ws.close()
    monkeypatch.setenv("LENDFLOW_TODAY", "2026-02-12")
    assert lendflow("loan repay 1 --amount 1753.32 --idempotency-key inst-1").exit_code == 0
    return lendflow


def test_prepay_recalculates_and_keeps_the_old_schedule(loan) -> None:  # type: ignore[no-untyped-def]
    done = loan("loan prepay 1 --amount 4000 --idempotency-key pre-1")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.strip() == (
        "loan 1: 4000.00 prepaid (reduce_instalment); instalment 1743.32 -> 911.85, interest"
        " 157.35 less, last due 2026-07-12; schedule version 2"
    )
    again = loan("loan prepay 1 --amount 4000 --idempotency-key pre-1 --json").json()
    assert again["replayed"] is True and again["prepayment"]["interest_after"] == "172.55"
    versions = loan("loan schedule-versions 1").stdout.splitlines()
    assert versions == [
        "version 1 from 2026-01-12: payout, 6 instalments, interest 459.90",
        "version 2 from 2026-02-12: prepayment (reduce_instalment, 4000.00 prepaid),"
        " 6 instalments, interest 302.55",
    ]
    shown = loan("loan show 1 --on 2026-02-12 --json").json()
    assert shown["outstanding"]["principal"] == "4386.68"
    assert loan("audit verify --as auditor").exit_code == 0


def test_refused_prepayments_are_one_line_and_change_nothing(loan) -> None:  # type: ignore[no-untyped-def]
    too_much = loan("loan prepay 1 --amount 8386.68")
    assert too_much.exit_code == 1
    assert too_much.error().endswith("that settles the loan")
    bad = loan("loan prepay 1 --amount -5")
    assert bad.exit_code == 2
    assert loan("loan schedule-versions 1").stdout.strip() == (
        "loan 1: its schedule was never recalculated"
    )
