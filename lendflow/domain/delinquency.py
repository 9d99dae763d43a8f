"""Days past due, buckets and classification from a loan's instalments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from lendflow.domain.repayment import InstalmentState


def arrears(instalments: Sequence[InstalmentState], as_of: date) -> int:
    """Everything due by `as_of` and still unpaid (fen)."""
    return sum(i.owed().total for i in instalments if i.due_date <= as_of)


def days_past_due(instalments: Sequence[InstalmentState], as_of: date, tolerance: int = 0) -> int:
    """Days since the oldest unpaid due date; arrears within `tolerance` do not count."""
    if arrears(instalments, as_of) <= tolerance:
        return 0
    unpaid = [i.due_date for i in instalments if i.due_date <= as_of and not i.settled]
    return (as_of - min(unpaid)).days if unpaid else 0
