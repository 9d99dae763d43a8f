"""Accrual accounting: interest earned day by day, non-accrual, and no accrual twice.

The figures are worked by hand from cash-easy's schedule: 10,000.00 lent on 12 January
2026 at 15.6% a year over 12 monthly instalments, so the first period (12 January to
12 February, 31 days) carries 10,000.00 × 15.6% / 12 = 130.00 of interest.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.domain.accrual import Terms, expected_accrued
from lendflow.domain.repayment import InstalmentState
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.store.tables import instalments, journal_entries, journal_lines
from tests.service.loan_rows import current_loan

CONFIG = load_cob_config()
DAY = timedelta(days=1)
PAID_OUT = date(2026, 1, 12)


def open_loan(ws, ops, risk, applicant, amount: str = "10000", term: int = 12, **who) -> int:  # type: ignore[no-untyped-def]
    loan = applications.apply(
        ws, ops, applicant(amount=amount, term=term, **who), date(2026, 1, 10)
    )
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan.id, PAID_OUT)
    return loan.id


def close(ws, first: date, last: date) -> None:  # type: ignore[no-untyped-def]
    cob.close_range(ws, 1, 10_000, first, last, "cob", CONFIG)


def balance(ws, account: str) -> int:  # type: ignore[no-untyped-def]
    """Debits less credits of an account over the whole journal."""
    with ws.engine.connect() as c:
        return int(
            c.execute(
                select(
                    func.coalesce(func.sum(journal_lines.c.debit - journal_lines.c.credit), 0)
                ).where(journal_lines.c.account == account)
            ).scalar_one()
        )


def loan_row(ws, loan_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return current_loan(ws, loan_id)


def instalment_rows(ws, loan_id: int) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        found = c.execute(
            select(instalments).where(instalments.c.loan_id == loan_id).order_by(instalments.c.n)
        )
        return [dict(r) for r in found.mappings()]


def test_a_12_month_annuity_accrues_its_first_periods_interest_to_the_day(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    first = instalment_rows(ws, loan_id)[0]
    assert (first["n"], first["due_date"], first["interest"]) == (1, date(2026, 2, 12), 13_000)

    # 27 January is 15 days into the 31-day period: 130.00 × 15 / 31 = 62.9032… → 62.90
    close(ws, PAID_OUT, date(2026, 1, 27))
    assert loan_row(ws, loan_id)["interest_accrued"] == 6_290
    assert balance(ws, "interest_accrued") == 6_290
    assert balance(ws, "interest_income") == -6_290  # credited: income earned to date
    assert balance(ws, "interest_receivable") == 0  # nothing has fallen due yet

    # closing the same days again accrues nothing more
    close(ws, PAID_OUT, date(2026, 1, 27))
    assert balance(ws, "interest_accrued") == 6_290

    # the due date brings the period to its whole 130.00, which moves to receivable,
    # never to income a second time
    close(ws, date(2026, 1, 28), date(2026, 2, 12))
    row = loan_row(ws, loan_id)
    assert row["interest_receivable"] == 13_000
    assert balance(ws, "interest_income") == -13_000
    assert balance(ws, "interest_accrued") == row["interest_accrued"] == 0
    # the second period runs from 12 February, 28 days
    assert (row["accrual_start"], row["accrual_days"]) == (date(2026, 2, 12).toordinal(), 28)
    assert audit.verify(ws, auditor).ok


def test_a_payoff_settles_the_accrual_and_charges_only_the_days_not_yet_closed(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, PAID_OUT, date(2026, 1, 27))  # 62.90 accrued through the 27th
    quote = repayments.quote(ws, ops, loan_id, date(2026, 1, 28))
    # the quote charges 16 days: 130.00 × 16 / 31 = 67.096… → 67.10
    assert quote.interest == 6_710
    repayments.repay(ws, ops, loan_id, quote.total, date(2026, 1, 28))
    assert loan_row(ws, loan_id)["state"] == "closed"
    assert balance(ws, "interest_accrued") == 0
    assert balance(ws, "interest_income") == -6_710  # 62.90 accrued + 4.20 for the 28th
    assert audit.verify(ws, auditor).ok


def test_a_loan_turning_substandard_has_its_unpaid_income_reversed_and_earns_no_more(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    # unpaid from the first due date (12 February): substandard from 91 days past due
    turned = date(2026, 2, 12) + timedelta(days=91)
    close(ws, PAID_OUT, turned - DAY)
    before = loan_row(ws, loan_id)
    assert before["classification"] == "doubtful" or before["non_accrual_since"] is None
    income_before = -balance(ws, "interest_income")
    penalty_before = -balance(ws, "penalty_income")
    assert before["interest_receivable"] > 0 and before["penalty_receivable"] > 0

    close(ws, turned, turned)
    after = loan_row(ws, loan_id)
    assert after["classification"] == "substandard"
    assert after["non_accrual_since"] == turned
    # reversed: every fen of interest on the books and unpaid (fallen due, and accrued on
    # the running period through today), and every fen of penalty charged before today
    held_interest = after["interest_receivable"] + after["interest_accrued"]
    assert after["interest_suspended"] == held_interest
    assert (
        -balance(ws, "interest_income")
        == income_before - before["interest_receivable"] - (before["interest_accrued"])
    )
    assert after["penalty_suspended"] == after["penalty_receivable"]
    assert -balance(ws, "penalty_income") == penalty_before - before["penalty_receivable"]

    # thirty days later: still no income, everything charged went to suspense
    income_then = -balance(ws, "interest_income")
    penalty_then = -balance(ws, "penalty_income")
    close(ws, turned + DAY, turned + timedelta(days=30))
    later = loan_row(ws, loan_id)
    assert -balance(ws, "interest_income") == income_then
    assert -balance(ws, "penalty_income") == penalty_then
    assert later["interest_suspended"] == later["interest_receivable"] + later["interest_accrued"]
    assert later["penalty_suspended"] == later["penalty_receivable"] > after["penalty_receivable"]
    assert audit.verify(ws, auditor).ok

    # cash received is income as it arrives: paying everything off releases the suspense
    on = turned + timedelta(days=31)
    quote = repayments.quote(ws, ops, loan_id, on)
    repayments.repay(ws, ops, loan_id, quote.total, on)
    assert balance(ws, "interest_suspense") == balance(ws, "penalty_suspense") == 0
    assert -balance(ws, "interest_income") == income_then + later["interest_suspended"] + (
        quote.interest - later["interest_receivable"] - later["interest_accrued"]
    )
    assert audit.verify(ws, auditor).ok


def _earned_to(ws, loan_id: int) -> int:  # type: ignore[no-untyped-def]
    """The schedule's interest earned by the loan through its last closed day."""
    row = loan_row(ws, loan_id)
    states = [InstalmentState.from_row(r) for r in instalment_rows(ws, loan_id)]
    total = 0
    for item in states:
        if item.n > 0:
            begin = max([s.due_date for s in states if 0 < s.n < item.n] + [row["disbursed_on"]])
            days = (item.due_date - begin).days
            total += Terms(begin.toordinal(), days, item.interest, item.interest_waived).earned(
                row["cob_through"]
            )
    assert expected_accrued(states, row["disbursed_on"], row["cob_through"]) == (
        total - sum(s.interest - s.interest_waived for s in states if s.n > 0 and s.recognised)
    )
    return total


@pytest.mark.parametrize("seed", [7, 11])
def test_many_loans_many_days_with_backdated_repayments_accrue_each_day_once(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, seed: int
) -> None:
    """A small book closed day by day, with repayments arriving late on random days and
    booked back to their value dates: whatever was reprocessed, the interest income the
    journal holds is the schedules' interest earned to date, loan by loan summed, and the
    audit proves each loan's accrual to the fen."""
    simulate(
        ws, ops, risk, auditor, applicant, random.Random(seed), loans=12, days=101, per_night=1
    )


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the small book: both
def test_a_thousand_loans_for_a_year_with_backdated_repayments_accrue_each_day_once(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """The same over 1,000 loans and 365 nights: repayments on time, late, and booked
    back to their value dates; many loans fall behind, some far enough to stop accruing
    to income (substandard), none far enough to be written off."""
    simulate(
        ws, ops, risk, auditor, applicant, random.Random(2026), loans=1_000, days=365, per_night=1
    )


def simulate(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, pick: random.Random, *, loans: int, days: int, per_night: int
) -> int:
    """Close `days` nights over `loans` loans paid out on one day, with `per_night`
    repayments on one night in four, booked back 1 to 20 days; then the
    interest recognised (income, and what non-accrual holds in suspense) must be the
    schedules' interest earned to date, and the audit must pass. Returns the interest
    held in suspense at the end."""
    ids = [open_loan(ws, ops, risk, applicant, amount=str(pick.choice([3000, 5000, 8000])),
                     born=date(1980, 1, 1) + timedelta(days=n), serial=n % 1000)
           for n in range(loans)]  # fmt: skip
    day = PAID_OUT
    last = PAID_OUT + timedelta(days=days - 1)
    while day <= last:
        close(ws, day, day)
        day += DAY
        if pick.random() >= 0.25:
            continue
        for loan_id in pick.sample(ids, per_night):
            row = loan_row(ws, loan_id)
            if row["state"] not in ("active", "overdue"):
                continue
            value_date = row["cob_through"] - timedelta(days=pick.randint(1, 20))
            if value_date < row["disbursed_on"]:
                continue
            amount = pick.choice([5_000, 20_000, 60_000])
            key = f"late-{day}-{loan_id}"
            repayments.repay_backdated(ws, ops, loan_id, amount, value_date, idempotency_key=key)
    earned = sum(_earned_to(ws, loan_id) for loan_id in ids)
    with ws.engine.connect() as c:
        accruals = c.execute(
            select(func.count())
            .select_from(journal_entries)
            .where(journal_entries.c.kind == "accrual")
        ).scalar_one()
    assert accruals >= days  # one entry a day for the book, more for loans booked again
    assert -balance(ws, "interest_income") - balance(ws, "interest_suspense") == earned
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems
    return -balance(ws, "interest_suspense")


@pytest.mark.parametrize("pays_first", [False, True], ids=["in-arrears", "paid-to-date"])
def test_a_part_payment_on_the_last_due_date_leaves_no_day_unaccrued(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, pays_first: bool
) -> None:
    """Money arriving on the last instalment's due date, before that night is closed,
    recognises the instalment at once: its interest leaves accrual whole, the last day's
    share not yet accrued. With no period after it, close of business must still accrue
    that day (to income, or to suspense), not leave the loan's accrual below nothing."""
    loan_id = open_loan(ws, ops, risk, applicant, term=3)
    last_due = instalment_rows(ws, loan_id)[-1]["due_date"]
    if pays_first:
        for item in instalment_rows(ws, loan_id)[1:-1]:
            close(ws, PAID_OUT, item["due_date"] - DAY)
            owed = item["principal"] + item["interest"] + item["fee"]
            repayments.repay(ws, ops, loan_id, owed, item["due_date"], f"due-{item['n']}")
    close(ws, PAID_OUT, last_due - DAY)
    repayments.repay(ws, ops, loan_id, 100_000, last_due, "part")
    close(ws, last_due, last_due + timedelta(days=10))
    row = loan_row(ws, loan_id)
    assert row["interest_accrued"] == 0
    assert balance(ws, "interest_accrued") == 0  # every period's interest left accrual whole
    # all the schedule's interest was recognised: to income, or held in suspense
    interest = sum(r["interest"] - r["interest_waived"] for r in instalment_rows(ws, loan_id))
    assert -balance(ws, "interest_income") - balance(ws, "interest_suspense") == interest
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems
