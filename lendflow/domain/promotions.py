"""First-loan interest-free days (首单免息): the interest a promotion waives, to the fen.

A promotion of N interest-free days waives the interest that accrues in the
first N days after the money is paid out. Each instalment's interest accrues
evenly over its own period (from the disbursement or the previous due date to
its due date), so an instalment's waiver is its interest times the share of its
period's days that fall inside the free days, rounded half up to the fen; a
period wholly inside them is waived whole. Thirty free days on a loan paid out
on 15 January with monthly instalments waive 30/31 of the first instalment's
interest; forty-five waive all of it and 14/28 of the second's.

The borrower still owes every instalment's principal on its date: only interest
is waived, and only what the schedule charges, so the waiver can never exceed
the interest of the loan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from lendflow.domain.money import div_round

MAX_FREE_DAYS = 366


@dataclass(frozen=True, slots=True)
class ScheduledInterest:
    """One instalment as the schedule charges it: its number, due date and interest (fen)."""

    n: int
    due_date: date
    interest: int


def interest_free_waivers(
    disbursed_on: date, instalments: Iterable[ScheduledInterest], free_days: int
) -> dict[int, int]:
    """The interest waived on each instalment (by number) by `free_days` interest-free days.

    Instalments without interest (an upfront-fee row, a grace period) waive nothing;
    the result lists only instalments with something waived.
    """
    if not 0 <= free_days <= MAX_FREE_DAYS:
        raise ValueError(f"free days must be between 0 and {MAX_FREE_DAYS}, got {free_days}")
    free_until = disbursed_on + timedelta(days=free_days)
    waivers: dict[int, int] = {}
    start = disbursed_on
    for item in sorted(instalments, key=lambda i: (i.due_date, i.n)):
        if start >= free_until:
            break
        period = (item.due_date - start).days
        covered = (min(item.due_date, free_until) - start).days
        if period > 0 and item.interest > 0:
            waived = (
                item.interest if covered >= period else div_round(item.interest * covered, period)
            )
            if waived:
                waivers[item.n] = waived
        start = max(start, item.due_date)
    return waivers
