"""A loan's transactions: its journal entries with the lines that name it, what reversed
them, and the payer's reference kept with a repayment.

The loan of test_business_dates: cash-easy, 10,000.00 over 3 months, paid out 2026-01-12.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from lendflow.domain.errors import BadInput, KeyReused, NotFound
from lendflow.loans import audit, repayments
from lendflow.loans.views import loan_transactions
from lendflow.store.tables import events, journal_lines
from tests.service.test_business_dates import close, open_loan

PAID_OUT = date(2026, 1, 12)


def balanced(entry) -> bool:  # type: ignore[no-untyped-def]
    return sum(line.debit for line in entry.lines) == sum(line.credit for line in entry.lines)


def test_each_entry_comes_with_its_lines_oldest_first_a_page_at_a_time(
    ws, ops, risk, applicant
) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    repayments.repay(ws, ops, loan_id, 50_000, PAID_OUT, "pay-1", "BANK-0112-7")

    page = loan_transactions(ws, ops, loan_id)
    assert page.total == 2
    payout, payment = page.items
    assert (payout.kind, payout.business_date, payout.actor) == ("disbursement", PAID_OUT, "ops")
    assert payout.reference is None and payout.reversed_by is None and balanced(payout)
    assert (payment.kind, payment.memo, payment.reference) == ("repayment", "pay-1", "BANK-0112-7")
    assert [(line.account, line.debit) for line in payment.lines if line.debit] == [
        ("cash", 50_000)
    ]
    assert balanced(payment)

    second = loan_transactions(ws, ops, loan_id, offset=1, limit=1)
    assert second.total == 2 and [e.id for e in second.items] == [payment.id]
    with pytest.raises(NotFound):
        loan_transactions(ws, ops, 999)


def test_the_payers_reference_is_kept_in_the_payments_event_and_checked(
    ws, ops, risk, applicant
) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    result = repayments.repay(ws, ops, loan_id, 50_000, PAID_OUT, "pay-1", "BANK-0112-7")
    assert result.payment.reference == "BANK-0112-7"
    with ws.engine.connect() as c:
        payload = c.execute(
            select(events.c.payload).where(events.c.name == "RepaymentPosted")
        ).scalar_one()
    assert json.loads(payload)["reference"] == "BANK-0112-7"
    # the same key with another reference is another request
    with pytest.raises(KeyReused):
        repayments.repay(ws, ops, loan_id, 50_000, PAID_OUT, "pay-1", "BANK-0112-8")
    assert repayments.repay(ws, ops, loan_id, 50_000, PAID_OUT, "pay-1", "BANK-0112-7").replayed
    with pytest.raises(BadInput, match="reference must be 1-64 ASCII letters"):
        repayments.repay(ws, ops, loan_id, 50_000, PAID_OUT, "pay-2", "a:b")
    # a payment without a reference shows none, and its JSON has no such key
    plain = repayments.repay(ws, ops, loan_id, 10_000, PAID_OUT, "pay-3")
    assert "reference" not in plain.model_dump(mode="json")["payment"]


def test_a_backdated_repayment_shows_what_it_reversed_and_keeps_its_reference(
    ws, ops, risk, auditor, applicant
) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, PAID_OUT, date(2026, 3, 20))
    before = loan_transactions(ws, ops, loan_id)
    assert {e.kind for e in before.items} >= {"disbursement", "charges_due", "penalty"}
    assert all(e.reversed_by is None for e in before.items)

    repayments.repay_value_dated(
        ws, ops, loan_id, 342_037, date(2026, 2, 12), "file-0212", "ICBC-20260212-0001"
    )
    after = loan_transactions(ws, ops, loan_id)
    with ws.engine.connect() as c:
        counted = c.execute(
            select(func.count(func.distinct(journal_lines.c.entry_id))).where(
                journal_lines.c.loan_id == loan_id
            )
        ).scalar_one()
    assert after.total == counted > before.total
    by_id = {e.id: e for e in after.items}
    reversals = [e for e in after.items if e.reversal_of is not None]
    assert reversals and all(e.kind == "reversal" for e in reversals)
    for reversal in reversals:
        assert by_id[reversal.reversal_of].reversed_by == reversal.id
        assert reversal.business_date == by_id[reversal.reversal_of].business_date
    # nothing booked before the value date was reversed
    assert all(e.reversed_by is None for e in after.items if e.business_date < date(2026, 2, 12))
    (payment,) = [e for e in after.items if e.kind == "repayment" and e.reversed_by is None]
    assert (payment.business_date, payment.memo) == (date(2026, 2, 12), "file-0212")
    assert payment.reference == "ICBC-20260212-0001"
    assert audit.verify(ws, auditor).ok


def test_money_on_the_open_date_is_an_ordinary_repayment_and_on_a_closed_day_backdated(
    ws, ops, risk, applicant
) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, PAID_OUT, date(2026, 1, 20))
    on_time = repayments.repay_value_dated(ws, ops, loan_id, 10_000, date(2026, 1, 21), "k-1")
    late = repayments.repay_value_dated(ws, ops, loan_id, 10_000, date(2026, 1, 15), "k-2")
    assert not on_time.replayed and not late.replayed
    names = [e.kind for e in loan_transactions(ws, ops, loan_id).items]
    assert names.count("reversal") >= 1  # the closed days after the 15th were booked again
    again = repayments.repay_value_dated(ws, ops, loan_id, 10_000, date(2026, 1, 15), "k-2")
    assert again.replayed
