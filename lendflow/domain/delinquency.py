"""Days late, days past due, buckets, classification and penalty interest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from lendflow.domain.money import div_round
from lendflow.domain.statuses import LoanStatus


def days_late(oldest_unpaid_due: date | None, arrears: int, as_of: date, tolerance: int) -> int:
    """Days since the oldest unpaid due date; arrears within `tolerance` do not count."""
    if oldest_unpaid_due is None or arrears <= tolerance:
        return 0
    return (as_of - oldest_unpaid_due).days


def effective_dpd(raw_days: int, grace_days: int) -> int:
    """Days past due that count: none while the product's grace period lasts."""
    return raw_days if raw_days > grace_days else 0


def move_for(status: str, dpd: int, write_off_dpd: int) -> str | None:
    """The loan machine's trigger a day's days past due call for, if any.

    An active loan with days past due falls overdue, an overdue one with none is
    cured, and one beyond the product's write-off threshold is written off. The
    machine still checks every move: this only says which to ask for.
    """
    if status == LoanStatus.ACTIVE and dpd > 0:
        return "fall_overdue"
    if status == LoanStatus.OVERDUE and dpd == 0:
        return "cure"
    if status == LoanStatus.OVERDUE and dpd > write_off_dpd:
        return "write_off"
    return None


def bucket_for(dpd: int, buckets: Sequence[tuple[str, int | None]]) -> str:
    """The delinquency bucket (M0, M1, …) for `dpd`; buckets ascend by upper bound."""
    for name, max_dpd in buckets:
        if max_dpd is None or dpd <= max_dpd:
            return name
    raise ValueError("the last bucket must have no upper bound")


def classification_for(dpd: int, levels: Sequence[tuple[str, int]]) -> str:
    """The five-category class (正常/关注/次级/可疑/损失) for `dpd`; levels ascend by min_dpd."""
    found = levels[0][0]
    for code, min_dpd in levels:
        if dpd >= min_dpd:
            found = code
    return found


def daily_penalty(base: int, annual_rate_num: int, annual_rate_den: int, days_in_year: int) -> int:
    """One day's penalty interest on `base` fen at an annual rate (num/den, in percent).

    Rounded half up to the fen each day: the amount posted to the ledger for
    that day is exactly what the borrower's statement shows for it.
    """
    if base <= 0:
        return 0
    return div_round(base * annual_rate_num, annual_rate_den * 100 * days_in_year)
