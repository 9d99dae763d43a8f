"""The loan aggregate: a payment spent by the waterfall, booked in balanced entries,
with the loan's balances, instalments and next status decided together.

The properties are the ones an accountant checks: every fen of the payment lands in
exactly one place, the balances move exactly as the journal says, a payment that
reaches the payoff closes the loan and nothing else does, an overdue loan is cured
exactly when nothing due is left unpaid, and what falls due is booked once.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_repayment_plan import ORDERS, fresh_states, schedule_terms

from lendflow.domain.ledger import Account, balance_changes
from lendflow.domain.loan import Loan, charges_falling_due, charges_of
from lendflow.domain.repayment import InstalmentState
from lendflow.domain.schedule import ScheduleTerms
from lendflow.domain.statuses import LoanStatus

SETTINGS = settings(max_examples=120, deadline=None)


def loan_of(terms: ScheduleTerms, status: LoanStatus) -> Loan:
    """A freshly disbursed loan as the repository would hand it over."""
    states = fresh_states(terms)
    rows = [{**asdict(s), "id": 100 + s.n, "paid_on": None} for s in states]
    row = {
        "id": 7,
        "state": status.value,
        "customer_id": 3,
        "disbursed_on": terms.disbursed,
        "principal_outstanding": terms.principal,
        "interest_receivable": 0,
        "fee_receivable": sum(s.fee for s in states if s.recognised),
        "penalty_receivable": 0,
        "credit_balance": 0,
        "interest_suspended": 0,
        "penalty_suspended": 0,
    }
    return Loan.from_rows(row, rows)


def _cash(lines: list[Any]) -> int:
    return sum(line.debit - line.credit for line in lines if line.account is Account.CASH)


@SETTINGS
@given(terms=schedule_terms(), order=ORDERS, data=st.data())
def test_a_payment_lands_in_exactly_one_place_and_balances_follow_the_journal(
    terms: ScheduleTerms, order: tuple[str, ...], data: st.DataObject
) -> None:
    loan = loan_of(terms, LoanStatus.ACTIVE)
    as_of = terms.disbursed + timedelta(days=data.draw(st.integers(1, 400)))
    payoff = loan.payoff(as_of).total
    amount = data.draw(st.integers(1, payoff + 5_000))
    before = dict(loan.row)
    outcome = loan.repay(amount, as_of, order)

    assert _cash(outcome.entry) == amount
    moved = balance_changes([*outcome.charges_due, *outcome.entry])
    for column, delta in moved.items():
        assert outcome.balances.get(column, before[column]) == before[column] + delta
    assert (outcome.trigger == "close") == (amount >= payoff)
    if outcome.trigger == "close":
        assert loan.owed_on_books(outcome.balances) == 0
        assert outcome.balances.get("credit_balance", 0) == amount - payoff
        assert all(i.state().settled for i in loan.instalments)


@SETTINGS
@given(terms=schedule_terms(), data=st.data())
def test_an_overdue_loan_is_cured_exactly_when_nothing_due_is_left_unpaid(
    terms: ScheduleTerms, data: st.DataObject
) -> None:
    loan = loan_of(terms, LoanStatus.OVERDUE)
    last_due = max(i["due_date"] for i in loan.instalments)
    as_of = terms.disbursed + timedelta(
        days=data.draw(st.integers(1, (last_due - terms.disbursed).days))
    )
    payoff = loan.payoff(as_of).total
    amount = data.draw(st.integers(1, max(payoff - 1, 1)))
    outcome = loan.repay(amount, as_of)
    if outcome.trigger == "close":
        return
    assert (outcome.trigger == "cure") == (not loan.has_arrears(as_of))


@SETTINGS
@given(terms=schedule_terms(), days=st.integers(0, 400))
def test_what_fell_due_is_booked_once_and_only_once(terms: ScheduleTerms, days: int) -> None:
    loan = loan_of(terms, LoanStatus.ACTIVE)
    as_of = terms.disbursed + timedelta(days=days)
    falling = [i for i in loan.instalments if not i["recognised"] and i["due_date"] <= as_of]
    expected = [charges_of(i.row) for i in falling]
    lines = loan.recognise_due(as_of)
    moved = balance_changes(lines)
    assert moved["interest_receivable"] == sum(interest for interest, _ in expected)
    assert moved["fee_receivable"] == sum(fee for _, fee in expected)
    assert loan.recognise_due(as_of) == []
    assert set(loan.changed_instalments()) == {i["id"] for i in falling}


def test_a_payment_after_write_off_is_a_recovery_and_touches_no_balance() -> None:
    terms = ScheduleTerms(
        principal=1_000_000, annual_rate=Decimal("12"), repayments=6, disbursed=date(2025, 1, 15)
    )
    loan = loan_of(terms, LoanStatus.WRITTEN_OFF)
    outcome = loan.repay(30_000, date(2025, 9, 1))
    assert outcome.entry_kind == "recovery"
    assert outcome.balances == {} and outcome.trigger is None and outcome.charges_due == []
    assert loan.changed_instalments() == {}
    assert {(line.account, line.debit, line.credit) for line in outcome.entry} == {
        (Account.CASH, 30_000, 0),
        (Account.LOAN_LOSS_ALLOWANCE, 0, 30_000),
    }


def test_charges_falling_due_leave_out_what_was_paid_ahead_or_waived() -> None:
    item = InstalmentState(
        2, date(2025, 3, 15), principal=10_000, interest=1_200, fee=300,
        interest_paid=200, interest_waived=100, fee_paid=300,
    )  # fmt: skip
    assert charges_of(asdict(item)) == (900, 0)
    assert charges_falling_due(1_200, 200, 100, 300, 300, 0) == (900, 0)
