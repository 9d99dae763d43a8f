"""Classification on evidence: a non-performing loan that pays its arrears keeps its class
until it has repaid on time for two instalments and six months (the longer, by default)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.loans import applications, audit, disbursement, loan_requests, repayments
from lendflow.monitoring.kpis import product_kpis
from lendflow.products import catalogue as products
from lendflow.store import events
from lendflow.store.tables import instalments, loans
from lendflow.store.uow import run_in_transaction

CONFIG = load_cob_config()
DAY = timedelta(days=1)
PAID_OUT = date(2026, 1, 12)
ARREARS_PAID = date(2026, 6, 25)  # 133 days after the first due date, 12 Feb


@pytest.fixture
def first_evidence(ws, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """cash-easy, but upgraded on whichever evidence comes first."""
    text = example_product_paths()[0].read_text(encoding="utf-8")
    text = text.replace("code: cash-easy", "code: cash-first").replace(
        "  write_off_dpd: 360", "  write_off_dpd: 360\n  upgrade: {whichever: first}"
    )
    path = tmp_path / "cash-first.yaml"
    path.write_text(text, encoding="utf-8")
    products.import_product(ws, ws.actor("admin"), path, activate=True, as_of=date(2026, 1, 5))
    return "cash-first"


def open_loan(ws, ops, risk, applicant, product: str = "cash-easy") -> int:  # type: ignore[no-untyped-def]
    loan = applications.apply(
        ws, ops, applicant(product=product, amount="10000", term=12), date(2026, 1, 10)
    )
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan.id, PAID_OUT)
    return loan.id


def rows(ws, loan_id: int) -> list[dict]:  # type: ignore[type-arg,no-untyped-def]
    with ws.engine.connect() as c:
        found = c.execute(
            select(instalments).where(instalments.c.loan_id == loan_id).order_by(instalments.c.n)
        )
        return [dict(r) for r in found.mappings()]


def owed_by(ws, loan_id: int, d: date) -> int:  # type: ignore[no-untyped-def]
    """Everything fallen due by `d` and not paid: the arrears, penalty included."""
    total = 0
    for r in rows(ws, loan_id):
        if r["due_date"] <= d:
            for part in ("principal", "interest", "fee", "penalty"):
                total += r[part] - r[f"{part}_paid"]
            total -= r["interest_waived"] + r["fee_waived"]
    return total


def grade(ws, loan_id: int) -> tuple[str, int, date | None]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        row = c.execute(
            select(loans.c.classification, loans.c.dpd, loans.c.held_since).where(
                loans.c.id == loan_id
            )
        ).one()
    return row[0], row[1], row[2]


def close_to(  # type: ignore[no-untyped-def]
    ws, ops, loan_id: int, first: date, last: date, after: date = ARREARS_PAID
) -> None:
    """Close each day, paying each instalment due after `after` in full on its due date."""
    due = {r["due_date"]: r for r in rows(ws, loan_id) if r["n"] > 0}
    d = first
    while d <= last:
        if d in due and d > after:
            repayments.repay(ws, ops, loan_id, owed_by(ws, loan_id, d), d, f"on-time-{d}")
        cob.close_range(ws, 1, 10_000, d, d, "cob", CONFIG)
        d += DAY


def reclassified(ws, loan_id: int) -> list[dict]:  # type: ignore[type-arg,no-untyped-def]
    """The loan's class changes since its arrears were paid (its way down came before)."""
    trail = run_in_transaction(ws.engine, lambda uow: events.for_entity(uow, "loan", str(loan_id)))
    return [
        {**e, "payload": json.loads(e["payload"])}
        for e in trail
        if e["name"] == "LoanReclassified" and e["business_date"] >= ARREARS_PAID
    ]


def pay_arrears_at_133_days(ws, ops, loan_id: int) -> None:  # type: ignore[no-untyped-def]
    cob.close_range(ws, 1, 10_000, PAID_OUT, ARREARS_PAID - DAY, "cob", CONFIG)
    assert grade(ws, loan_id) == ("substandard", 132, None)
    repayments.repay(ws, ops, loan_id, owed_by(ws, loan_id, ARREARS_PAID), ARREARS_PAID, "arrears")
    # the repayment cures the loan but it keeps its class, held since the arrears were paid
    assert grade(ws, loan_id) == ("substandard", 0, ARREARS_PAID)
    cob.close_range(ws, 1, 10_000, ARREARS_PAID, ARREARS_PAID, "cob", CONFIG)
    assert grade(ws, loan_id) == ("substandard", 0, ARREARS_PAID)


def test_a_133_day_loan_that_pays_its_arrears_stays_substandard_for_six_months(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    pay_arrears_at_133_days(ws, ops, loan_id)
    # two instalments repaid on time (12 Jul, 12 Aug): not enough, six months must pass too
    close_to(ws, ops, loan_id, ARREARS_PAID + DAY, date(2026, 12, 24))
    assert grade(ws, loan_id) == ("substandard", 0, ARREARS_PAID)
    assert reclassified(ws, loan_id) == []
    kpis = product_kpis(ws, auditor, "cash-easy", date(2026, 12, 24)).kpis
    assert kpis.non_performing_ratio == 1  # the only loan, still non-performing
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems
    # 25 Dec: six months since the arrears were paid, six instalments on time since
    close_to(ws, ops, loan_id, date(2026, 12, 25), date(2026, 12, 25))
    assert grade(ws, loan_id) == ("normal", 0, None)
    [event] = reclassified(ws, loan_id)
    assert event["business_date"] == date(2026, 12, 25)
    assert event["payload"]["previous"] == "substandard"
    assert event["payload"]["classification"] == "normal"
    assert event["payload"]["reason"] == (
        "arrears paid on 2026-06-25, then 6 instalments repaid on time and 6 months"
    )
    assert product_kpis(ws, auditor, "cash-easy", date(2026, 12, 25)).kpis.non_performing_ratio == 0
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_on_whichever_comes_first_two_on_time_instalments_are_enough(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, first_evidence
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant, first_evidence)
    pay_arrears_at_133_days(ws, ops, loan_id)
    close_to(ws, ops, loan_id, ARREARS_PAID + DAY, date(2026, 8, 11))
    assert grade(ws, loan_id) == ("substandard", 0, ARREARS_PAID)  # one on time (12 Jul)
    close_to(ws, ops, loan_id, date(2026, 8, 12), date(2026, 8, 12))
    assert grade(ws, loan_id) == ("normal", 0, None)  # the second, 12 Aug
    [event] = reclassified(ws, loan_id)
    assert event["payload"]["reason"] == (
        "arrears paid on 2026-06-25, then 2 instalments repaid on time and 1 month"
    )
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_falling_behind_again_while_held_starts_over(ws, ops, risk, auditor, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    pay_arrears_at_133_days(ws, ops, loan_id)
    # 12 Jul is missed: the loan is late again, and stays substandard (no upgrade, no hold)
    cob.close_range(ws, 1, 10_000, ARREARS_PAID + DAY, date(2026, 7, 20), "cob", CONFIG)
    assert grade(ws, loan_id) == ("substandard", 8, None)
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def restructure(ws, ops, risk, loan_id: int, on: date, term: int = 24) -> None:  # type: ignore[no-untyped-def]
    """A new schedule of `term` monthly repayments for everything owed, asked and approved."""
    asked = loan_requests.ask_restructure(ws, ops, loan_id, term, None, "plan agreed", on)
    loan_requests.approve_request(ws, risk, asked.id, on)


def test_a_restructured_loan_stays_special_mention_through_its_observation_year(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    on = date(2026, 3, 24)  # 40 days past the first due date: special mention
    cob.close_range(ws, 1, 10_000, PAID_OUT, on - DAY, "cob", CONFIG)
    assert grade(ws, loan_id) == ("special_mention", 39, None)
    restructure(ws, ops, risk, loan_id, on)
    assert grade(ws, loan_id) == ("special_mention", 0, None)  # not normal: the floor
    # every new instalment paid on its due date for a year: still special mention
    close_to(ws, ops, loan_id, on, date(2027, 3, 23), after=on)
    assert grade(ws, loan_id) == ("special_mention", 0, None)
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems
    close_to(ws, ops, loan_id, date(2027, 3, 24), date(2027, 3, 24), after=on)
    assert grade(ws, loan_id) == ("normal", 0, None)  # the observation year is over
    [event] = [e for e in reclassified(ws, loan_id) if e["business_date"] > on]
    assert (event["business_date"], event["payload"]["reason"]) == (
        date(2027, 3, 24),
        "0 days past due",
    )


def test_a_non_performing_loan_restructured_stays_held_until_the_evidence(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    cob.close_range(ws, 1, 10_000, PAID_OUT, ARREARS_PAID - DAY, "cob", CONFIG)
    restructure(ws, ops, risk, loan_id, ARREARS_PAID)
    assert grade(ws, loan_id) == ("substandard", 0, ARREARS_PAID)
    # six months and two instalments on time: the evidence is in, but the observation year
    # still holds the loan at special mention
    close_to(ws, ops, loan_id, ARREARS_PAID, date(2026, 12, 25), after=ARREARS_PAID)
    assert grade(ws, loan_id) == ("special_mention", 0, None)
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems
