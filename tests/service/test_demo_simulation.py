"""The demo's simulated borrowers: a day's payments post as one batch, each on its own.

Two loans of 10,000.00 over 3 months are paid out on 2026-01-12; on the same day one
borrower pays the first off twice over (the second payoff finds it closed) and the other
pays theirs off. The refused payment is undone alone: both loans end closed, and the day
counts two payoffs and one refusal, once each.
"""

from __future__ import annotations

from datetime import date

from lendflow.demo.simulation import SimulatedBook, Simulator
from lendflow.store import loans as loan_store
from lendflow.store.uow import run_in_transaction
from tests.service.test_business_dates import open_loan

PAID_OUT = date(2026, 1, 12)


def test_a_refused_payment_in_a_days_batch_is_undone_alone_and_counted_once(
    ws, ops, risk, applicant
) -> None:  # type: ignore[no-untyped-def]
    first = open_loan(ws, ops, risk, applicant, PAID_OUT)
    second = open_loan(ws, ops, risk, applicant, PAID_OUT)
    book = SimulatedBook("cash-easy", seed=1)
    book.payments[PAID_OUT] = [(first, "payoff"), (first, "payoff"), (second, "payoff")]
    Simulator(ws, book).day(PAID_OUT, [])

    def state(loan_id: int) -> str:
        return str(run_in_transaction(ws.engine, lambda uow: loan_store.get(uow, loan_id))["state"])

    assert (state(first), state(second)) == ("closed", "closed")
    assert dict(book.counts) == {"repayments_payoff": 2, "repayment_refused": 1}
    assert book.paid_through == date(2026, 1, 13)
