"""The loan actions as rules over the aggregate, for any schedule and any day.

What a lender's controller checks: a waiver takes off exactly what was approved and
never more than is owed; declaring a loan due does not change what settles it that day
(it only brings the principal forward and drops charges not yet earned); a restructure
lends again exactly that payoff; every entry balances and moves the loan's balances as
the journal says.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_loan_aggregate import loan_of
from test_repayment_plan import schedule_terms

from lendflow.domain import loan_actions
from lendflow.domain.errors import Refused
from lendflow.domain.ledger import LOAN_BALANCES, balance_changes
from lendflow.domain.loan import Loan
from lendflow.domain.loan_actions import ScheduleChange, schedule_after
from lendflow.domain.schedule import ScheduleTerms
from lendflow.domain.statuses import LoanStatus

SETTINGS = settings(max_examples=100, deadline=None)


def aged(terms: ScheduleTerms, days: int, penalty: int) -> tuple[Loan, object]:
    """The loan `days` after payout with nothing paid: what fell due recognised, and
    `penalty` fen charged on each instalment fallen due."""
    loan = loan_of(terms, LoanStatus.OVERDUE)
    as_of = terms.disbursed + timedelta(days=days)
    charges = loan.recognise_due(as_of)
    moved = balance_changes(charges)
    for item in loan.instalments:
        if item["n"] and item["due_date"] < as_of:
            item.set(penalty=penalty)
    loan.row.update(
        interest_receivable=loan.row["interest_receivable"] + moved["interest_receivable"],
        fee_receivable=loan.row["fee_receivable"] + moved["fee_receivable"],
        penalty_receivable=sum(i["penalty"] for i in loan.instalments),
    )
    loan.instalments = [type(i)(dict(i.row)) for i in loan.instalments]  # nothing changed yet
    return loan, as_of


def _moves_as_journal(loan: Loan, outcome: loan_actions.Outcome, before: dict) -> None:
    """Each balance moves exactly as the action's entries say (its accrual columns, the
    running period, are no balance)."""
    for column, value in outcome.balances.items():
        if column not in LOAN_BALANCES:
            continue
        delta = sum(balance_changes(lines)[column] for _, lines in outcome.entries)
        assert value == before[column] + delta


@SETTINGS
@given(terms=schedule_terms(), data=st.data())
def test_a_waiver_takes_off_exactly_the_amount_and_never_more_than_is_owed(
    terms: ScheduleTerms, data: st.DataObject
) -> None:
    loan, _ = aged(terms, data.draw(st.integers(0, 500)), data.draw(st.integers(0, 9_999)))
    component = data.draw(st.sampled_from(loan_actions.WAIVABLE))
    column = "penalty_receivable" if component == "penalty" else "fee_receivable"
    owed = loan.row[column]
    if owed == 0:
        with pytest.raises(Refused):
            loan_actions.waive(loan, component, 1)
        return
    with pytest.raises(Refused, match="is owed"):
        loan_actions.waive(loan, component, owed + 1)
    amount = data.draw(st.integers(1, owed))
    before = dict(loan.row)
    owed_on_rows = sum(i.owed_after_payment() for i in loan.instalments)
    outcome = loan_actions.waive(loan, component, amount)
    assert outcome.balances == {column: owed - amount}
    assert sum(i.owed_after_payment() for i in loan.instalments) == owed_on_rows - amount
    _moves_as_journal(loan, outcome, before)


@SETTINGS
@given(terms=schedule_terms(), data=st.data())
def test_declaring_the_loan_due_does_not_change_what_settles_it_that_day(
    terms: ScheduleTerms, data: st.DataObject
) -> None:
    loan, as_of = aged(terms, data.draw(st.integers(1, 400)), data.draw(st.integers(0, 500)))
    payoff = loan.payoff(as_of)
    principal = sum(i["principal"] for i in loan.instalments)
    outcome = loan_actions.accelerate(loan, as_of)
    assert outcome.entries == []  # nothing was paid ahead
    assert all(i["due_date"] <= as_of for i in loan.instalments)
    assert sum(i["principal"] for i in loan.instalments) == principal
    assert loan.payoff(as_of) == payoff
    # all of it is now due: what is owed on the instalments is the payoff
    assert sum(i.owed_after_payment() for i in loan.instalments) == payoff.total


@SETTINGS
@given(terms=schedule_terms(), data=st.data())
def test_a_restructure_lends_again_exactly_the_payoff_and_settles_the_old_schedule(
    terms: ScheduleTerms, data: st.DataObject
) -> None:
    loan, as_of = aged(terms, data.draw(st.integers(1, 400)), data.draw(st.integers(0, 500)))
    payoff = loan.payoff(as_of).total
    before = dict(loan.row)
    outcome = loan_actions.restructure(loan, as_of)
    assert outcome.figures["principal"] == payoff
    assert outcome.balances.get("principal_outstanding", before["principal_outstanding"]) == payoff
    assert all(outcome.balances.get(c, 0) == 0 for c in
               ("interest_receivable", "fee_receivable", "penalty_receivable"))  # fmt: skip
    assert all(i.owed_after_payment() == 0 and i["due_date"] <= as_of for i in loan.instalments)
    _moves_as_journal(loan, outcome, before)


def test_schedule_after_brings_every_later_due_date_to_the_change_and_appends() -> None:
    from datetime import date

    rows = [(1, date(2026, 2, 12), 100, 10, 1), (2, date(2026, 3, 12), 100, 5, 1)]
    accelerated = schedule_after(rows, [ScheduleChange(date(2026, 2, 20))])
    assert accelerated == [(1, date(2026, 2, 12), 100, 10, 1), (2, date(2026, 2, 20), 100, 5, 1)]
    new = ((3, date(2026, 3, 25), 215, 3, 0),)
    restructured = schedule_after(rows, [ScheduleChange(date(2026, 2, 25), new)])
    assert restructured[-1] == new[0] and restructured[1][1] == date(2026, 2, 25)
