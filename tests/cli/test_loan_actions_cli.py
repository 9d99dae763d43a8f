"""Loan actions at the command line: waive, accelerate, restructure (each asked by one
person and approved by another) and refund; every refusal one line that changes nothing.

Loan 1: cash-easy, 10,000.00 over 6 months, paid out 2026-01-12, closed through
2026-03-20 (instalments 1 and 2 unpaid: 36 days past due; fees owed 20.00, penalty
33 days of 1.08 and 8 days of 1.09: 44.36).
"""

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


def close(first: date, last: date) -> None:
    ws = open_workspace()
    close_range(ws, 1, 1, first, last, "cob", load_cob_config())
    ws.close()


@pytest.fixture
def loan(lendflow, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    assert (
        lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05").exit_code == 0
    )
    applied = lendflow(
        f"loan apply --consent all --product cash-easy --name 王五 --id-number {NATIONAL_ID}"
        " --phone 13812345678 --monthly-income 8000 --amount 10000 --term 6 --on 2026-01-10"
    )
    assert applied.stdout.strip() == "1", applied.stderr
    assert lendflow("loan review 1 --on 2026-01-10").exit_code == 0
    assert lendflow("loan approve 1 --as risk --on 2026-01-11").exit_code == 0
    assert lendflow("loan disburse 1 --on 2026-01-12").exit_code == 0
    close(date(2026, 1, 12), date(2026, 3, 20))
    monkeypatch.setenv("LENDFLOW_TODAY", "2026-03-21")  # commands act on the open date
    return lendflow


def shown(lendflow) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(lendflow("loan show 1 --on 2026-03-21 --json").stdout)


def test_a_waiver_asked_then_approved_by_another(loan) -> None:  # type: ignore[no-untyped-def]
    asked = loan('loan waive 1 --penalty 20 --reason "hardship" --json')
    assert asked.exit_code == 0, asked.stderr
    assert asked.json()["status"] == "pending" and asked.json()["amount"] == "20.00"
    assert shown(loan)["outstanding"]["penalty"] == "44.36"
    approved = loan("loan approve-request 1 --as risk")
    assert approved.exit_code == 0, approved.stderr
    assert approved.stdout.startswith("loan 1 waived (request 1)")
    assert shown(loan)["outstanding"]["penalty"] == "24.36"
    listed = loan("loan requests 1 --json").json()["items"]
    assert [(r["kind"], r["status"], r["decided_by"]) for r in listed] == [
        ("waive", "approved", "risk")
    ]
    assert loan("audit verify --as auditor").exit_code == 0


def test_waiving_more_than_is_owed_is_refused_in_one_line(loan) -> None:  # type: ignore[no-untyped-def]
    before = shown(loan)
    result = loan('loan waive 1 --fees 20.01 --reason "goodwill"')
    assert result.exit_code == 1
    assert result.error().endswith("cannot waive 20.01 of fees; only 20.00 is owed")
    assert shown(loan) == before
    assert loan("loan requests 1 --json").json()["items"] == []


def test_a_waiver_names_penalty_or_fees_and_says_why(loan) -> None:  # type: ignore[no-untyped-def]
    both = loan('loan waive 1 --fees 1 --penalty 1 --reason "x"')
    assert both.exit_code == 2 and "--penalty AMOUNT or --fees AMOUNT" in both.error()
    neither = loan('loan waive 1 --reason "x"')
    assert neither.exit_code == 2
    no_reason = loan("loan waive 1 --fees 1")
    assert no_reason.exit_code == 2


def test_the_same_person_may_not_approve(loan) -> None:  # type: ignore[no-untyped-def]
    assert loan('loan waive 1 --fees 5 --reason "goodwill" --as admin').exit_code == 0
    before = shown(loan)
    result = loan("loan approve-request 1 --as admin")
    assert result.exit_code == 1
    assert result.error().endswith("another person must approve it (four eyes)")
    operator = loan("loan approve-request 1")
    assert operator.exit_code != 0 and "may not approve loan actions" in operator.error()
    assert shown(loan) == before


def test_a_request_declined_by_another_is_never_approved(loan) -> None:  # type: ignore[no-untyped-def]
    assert loan('loan waive 1 --penalty 20 --reason "hardship"').exit_code == 0
    before = shown(loan)
    declined = loan('loan decline-request 1 --reason "no hardship shown" --as risk')
    assert declined.exit_code == 0, declined.stderr
    assert declined.stdout.strip() == "request 1 (waive on loan 1) declined: no hardship shown"
    assert shown(loan) == before
    approved = loan("loan approve-request 1 --as admin")
    assert approved.exit_code == 1
    assert approved.error().endswith("loan request 1 is already declined")
    assert shown(loan) == before
    listed = loan("loan requests 1 --json").json()["items"]
    assert [(r["status"], r["decided_by"], r["declined_because"]) for r in listed] == [
        ("declined", "risk", "no hardship shown")
    ]
    assert loan("audit verify --as auditor").exit_code == 0


def test_declining_wrongly_is_one_line_that_changes_nothing(loan) -> None:  # type: ignore[no-untyped-def]
    assert loan('loan waive 1 --fees 5 --reason "goodwill"').exit_code == 0

    def requests() -> list[dict]:  # type: ignore[type-arg]
        return loan("loan requests 1 --json").json()["items"]

    before = requests()
    unknown = loan('loan decline-request 9 --reason "no" --as risk')
    assert unknown.exit_code == 2
    assert unknown.error().endswith("loan request 9 does not exist")
    no_reason = loan("loan decline-request 1 --as risk")
    assert no_reason.exit_code == 2
    operator = loan('loan decline-request 1 --reason "no"')
    assert operator.exit_code != 0 and "may not decline loan actions" in operator.error()
    assert requests() == before
    assert loan("loan approve-request 1 --as risk").exit_code == 0
    late = loan('loan decline-request 1 --reason "too late" --as admin')
    assert late.exit_code == 1
    assert late.error().endswith("loan request 1 is already approved")
    assert [r["status"] for r in requests()] == ["approved"]


def test_a_restructure_is_nothing_until_approved(loan) -> None:  # type: ignore[no-untyped-def]
    before = shown(loan)
    asked = loan("loan restructure 1 --term 12 --json")
    assert asked.exit_code == 0, asked.stderr
    assert (asked.json()["status"], asked.json()["term"]) == ("pending", 12)
    assert shown(loan) == before and "restructured_on" not in before
    refused = loan("loan approve-request 1")
    assert refused.exit_code != 0 and shown(loan) == before
    done = loan("loan approve-request 1 --as risk --json")
    assert done.exit_code == 0, done.stderr
    after = done.json()["loan"]
    assert (after["state"], after["restructured_on"], after["restructure_count"]) == (
        "active",
        "2026-03-21",
        1,
    )
    assert done.json()["principal"] == "10328.87"
    schedule = loan("loan schedule 1 --json").json()["instalments"]
    assert len(schedule) == 18 and schedule[6]["due_date"] == "2026-04-21"
    assert loan("audit verify --as auditor").exit_code == 0


def test_bad_restructure_input_is_refused_before_anything_runs(loan) -> None:  # type: ignore[no-untyped-def]
    assert loan("loan restructure 1 --term 0").exit_code == 2
    rate = loan("loan restructure 1 --term 12 --rate abc")
    assert rate.exit_code == 2 and "--rate is not a number" in rate.error()
    band = loan("loan restructure 1 --term 12 --rate 30")
    assert band.exit_code == 1 and "RESTRUCTURE_RATE" in band.error()
    assert loan("loan requests 1 --json").json()["items"] == []


def test_acceleration_needs_the_products_days_then_a_second_person(  # type: ignore[no-untyped-def]
    loan, monkeypatch: pytest.MonkeyPatch
) -> None:
    early = loan("loan accelerate 1")
    assert early.exit_code == 1
    assert early.error() == (
        "error: refused by rule ACCELERATION_DAYS: loan 1 is 36 days past due; cash-easy declares a"
        " loan due only from 90 days past due"
    )
    monkeypatch.setenv("LENDFLOW_TODAY", "2026-05-14")
    close(date(2026, 3, 21), date(2026, 5, 13))
    asked = loan("loan accelerate 1")
    assert asked.exit_code == 0, asked.stderr
    done = loan("loan approve-request 1 --as risk --json")
    assert done.exit_code == 0, done.stderr
    assert done.json()["loan"]["accelerated_on"] == "2026-05-14"
    assert len(done.json()["notice_sha256"]) == 64
    assert loan("audit verify --as auditor").exit_code == 0


def test_a_refund_of_more_than_the_credit_balance_is_refused(loan) -> None:  # type: ignore[no-untyped-def]
    quote = loan("loan quote 1 --on 2026-03-21 --json").json()
    paid = loan(f"loan repay 1 --amount {quote['total']} --on 2026-03-21")
    assert paid.exit_code == 0, paid.stderr
    extra = loan("loan repay 1 --amount 30 --on 2026-03-21 --json")
    assert extra.exit_code != 0  # a closed loan takes no repayment
    result = loan("loan refund 1 --amount 0.01 --reference R-1")
    assert result.exit_code == 1
    assert result.error().endswith("cannot refund 0.01; its credit balance is 0.00")
    bad = loan("loan refund 1 --amount 1 --reference 'no spaces'")
    assert bad.exit_code == 2
