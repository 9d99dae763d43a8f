"""Reprocessing a loan: what to reverse and in which order to book its history again.

Money that arrived on a closed day, or a repayment taken back, changes everything
booked for the loan since: charges that fell due, days past due, penalty, moves
through the machine, later repayments. The loan's history is walked again from its
payout in the order it would have happened (`replay_steps`): before the value date
only its rows are rebuilt, from the value date on every entry booked for it (close
of business and repayments) is reversed by a new entry, never deleted
(`reversal_lines`), and booked again, so the loan ends exactly as if the money had
been there on its day (or never). The rules come from the same places as ever (the
loan aggregate, the close-of-business steps); this module only decides the order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from lendflow.domain.ledger import Account, Line

REPROCESSED_KINDS = (
    "charges_due",
    "penalty",
    "repayment",
    "write_off",
    "accrual_suspended",
    "non_accrual",
    "penalty_suspended",
    "provision",
)
"""What is booked for a loan after its payout, and so reversed and booked again. The
nightly interest accrual (`accrual`) names no loan: reprocessing takes back the loan's
part of it from what the loan row counts (`loans.accrual_income`)."""

INCOME_OF = {
    # interest falling due leaves accrual (`close_of_business.steps.recognise_due`)
    Account.INTEREST_RECEIVABLE: Account.INTEREST_ACCRUED,
    Account.FEE_RECEIVABLE: Account.FEE_INCOME,
    Account.DEFERRED_FEE_INCOME: Account.FEE_INCOME,
    Account.PENALTY_RECEIVABLE: Account.PENALTY_INCOME,
    Account.LOAN_LOSS_ALLOWANCE: Account.PROVISION_EXPENSE,
}
"""Close of business books the income of a chunk on one line naming no loan; a loan's
share of it is what its receivable lines carry (and a month end's provision expense is
the loans' allowance lines, likewise)."""


def reversal_lines(lines: Iterable[tuple[str, int, int]], whole_chunk: bool) -> list[Line]:
    """The lines that undo a loan's part of an entry: debits and credits swapped.

    For an entry of a whole chunk (close of business) the loan's share of the income
    line is taken back too, so the reversal balances on its own.
    """
    undone: list[Line] = []
    for account, debit, credit in lines:
        undone.append(Line(Account(account), credit, debit))
        income = INCOME_OF.get(Account(account)) if whole_chunk else None
        if income is not None:
            undone.append(Line(income, debit, credit))
    return undone


@dataclass(frozen=True)
class Payment:
    """A repayment to book again: its value date, amount and reference (idempotency key)."""

    on: date
    amount: int
    reference: str


@dataclass(frozen=True)
class Step:
    """One thing to book again: a payment on its day, or closing a day."""

    on: date
    payment: Payment | None = None

    @property
    def closes_day(self) -> bool:
        return self.payment is None


def replay_steps(payments: Sequence[Payment], first_day: date, closed_through: date) -> list[Step]:
    """The loan's history in booking order: a day's payments, then closing that day.

    Payments keep the order they were given in (posted order, a backdated one after
    those already on its day); days run from the payout to the last day closed.
    Payments after the last closed day (on the open date) come last.
    """
    steps: list[Step] = []
    by_day: dict[date, list[Payment]] = {}
    for payment in payments:
        by_day.setdefault(payment.on, []).append(payment)
    day = first_day
    while day <= closed_through:
        steps += [Step(day, p) for p in by_day.pop(day, [])]
        steps.append(Step(day))
        day += timedelta(days=1)
    for later in sorted(by_day):
        steps += [Step(later, p) for p in by_day[later]]
    return steps
