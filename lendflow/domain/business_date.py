"""Business dates: which day money may be dated on, and how far ahead of the real date.

The open business date is kept per loan, not per book. Close of business already
keeps a watermark per loan (`cob_through`, the last day closed for it) and catches a
loan left behind up from its own watermark, which is what Fineract does for loans
"behind COB" under its book-level COB date; a per-loan open date follows the
watermark the sweep writes, so a loan paid out on a day the rest of the book has
closed, or skipped by a failed chunk, is still dated consistently. A loan's open
date is the day after its last closed day. Money is dated on it: never into a closed
day (that is the backdated path, which reprocesses the loan) and never after it
(the days between would be closed as if the money had already arrived). Until close
of business has closed a day for the loan, its dates are bounded only by its own
history and the horizon.

Every date anyone gives, wherever money moves, is also bounded by the real date plus
the policy's horizon, so a mistyped year can neither recognise a whole schedule nor
block every real repayment behind it.
"""

from __future__ import annotations

from datetime import date, timedelta

from lendflow.domain.errors import BadInput


class ClosedDay(BadInput):
    """Money dated on a day close of business already closed for the loan: it belongs on
    the backdated path, which repayment files take for such a row by themselves."""


DAY = timedelta(days=1)


def check_horizon(as_of: date, today: date, horizon_days: int, what: str = "business date") -> None:
    """Refuse a date further ahead of the real date than the policy's horizon."""
    latest = today + timedelta(days=horizon_days)
    if as_of > latest:
        raise BadInput(
            f"{what} {as_of} is after {latest}: dates may run at most {horizon_days} day(s)"
            f" ahead of today ({today})"
        )


def open_date(closed_through: date | None, disbursed_on: date | None) -> date | None:
    """The day after the loan's last closed day (its payout day before any is closed)."""
    if closed_through is not None:
        return closed_through + DAY
    return disbursed_on


def has_closed_days(closed_through: date | None, disbursed_on: date | None) -> bool:
    """Whether close of business has closed at least one of the loan's own days."""
    return (
        closed_through is not None and disbursed_on is not None and closed_through >= disbursed_on
    )


def check_open_date(
    loan_id: int,
    as_of: date,
    closed_through: date | None,
    disbursed_on: date | None,
    *,
    in_sweep: bool = True,
) -> None:
    """Refuse money dated into a closed day, or after the open date once days were closed.

    A loan that left the live book (written off) keeps its watermark and close of
    business closes no more of its days, so money for it (a recovery, income, never
    against its balances) is bounded by its last closed day and the horizon only.
    """
    opened = open_date(closed_through, disbursed_on)
    if opened is None or closed_through is None:
        return
    if as_of <= closed_through:
        raise ClosedDay(
            f"loan {loan_id} is closed through {closed_through}; its open business date is"
            f" {opened}: use `loan repay --backdated` for money that arrived on {as_of}"
        )
    if in_sweep and has_closed_days(closed_through, disbursed_on) and as_of > opened:
        raise BadInput(
            f"loan {loan_id} is closed through {closed_through}; its open business date is"
            f" {opened}: close {opened} … {as_of - DAY} first (`lendflow cob run --as-of"
            f" {opened} --to {as_of - DAY}`)"
        )


def check_backdated(
    loan_id: int, value_date: date, closed_through: date | None, disbursed_on: date | None
) -> None:
    """A backdated payment must fall on a closed day of the loan, on or after its payout."""
    if disbursed_on is not None and value_date < disbursed_on:
        raise BadInput(f"business date {value_date} is before loan {loan_id} was disbursed")
    if closed_through is None or value_date > closed_through:
        raise BadInput(
            f"{value_date} is not a closed day of loan {loan_id} (closed through"
            f" {closed_through}); post it as an ordinary repayment on its open business date"
            f" {open_date(closed_through, disbursed_on)}"
        )
