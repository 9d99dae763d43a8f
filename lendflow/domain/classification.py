"""The five-category class on evidence (《商业银行金融资产风险分类办法》, 2023).

Days past due set a loan's class on the way down, the day they reach a level. On the way
up a non-performing loan (substandard, 次级, or worse) keeps its class until the evidence
the rules ask for is in: its arrears paid in full, and since then a number of consecutive
instalments repaid on time, or a number of months, whichever comes later (art. 20 reads
"按两者孰长"; a product may choose whichever comes first). A loan that falls behind again
while held starts over, and while arrears remain it never moves up at all. Without this,
a loan 133 days late that paid its arrears would count as normal the next morning and
the non-performing ratio would be understated.

A restructured loan is held at a floor for an observation period: special mention (关注)
at least, and no better than non-performing if it was non-performing when restructured.

`grade` is one day's decision, as close of business takes it; `class_on` folds it over a
loan's history for any date, as the portfolio figures and the audit need it.

An optional borrower-level rule (the lender's policy) gives every live loan of a borrower
the worst class among them (`with_borrower_class`), never a better one than the loan's
own evidence gives; the loan keeps its own class beside the worse one, and grading goes on
from its own, so the rule lets go of it as soon as the borrower's other loans are better.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from lendflow.domain.calendar import add_months
from lendflow.domain.delinquency import classification_for, effective_dpd

Levels = Sequence[tuple[str, int]]  # (code, min_dpd), ascending


@dataclass(frozen=True, slots=True)
class UpgradeRule:
    """What a non-performing loan must show before it may move up a class."""

    held_from: str = "substandard"
    """The first class whose loans need evidence to move up (the non-performing ones)."""
    instalments: int = 2
    months: int = 6
    whichever: Literal["longer", "first"] = "longer"

    def held_rank(self, levels: Levels) -> int:
        return rank(levels, self.held_from)

    def release_on(self, paid: date, on_time: Sequence[date]) -> date | None:
        """The day the evidence is in for arrears paid on `paid`, given the days on which
        each later instalment was known repaid on time (its due date, or the later day it
        was paid within grace), in order; None while it is not in yet."""
        by_months = add_months(paid, self.months)
        by_instalments = on_time[self.instalments - 1] if len(on_time) >= self.instalments else None
        if self.whichever == "first":
            return min(by_months, by_instalments) if by_instalments else by_months
        return max(by_months, by_instalments) if by_instalments else None


@dataclass(frozen=True, slots=True)
class Restructure:
    """A restructured loan's floor: the class it may not move above until `until`."""

    until: date
    floor: str


@dataclass(frozen=True, slots=True)
class Graded:
    """A loan's class for the day, when its arrears were paid if it is held, and why."""

    code: str
    held_since: date | None
    reason: str


def rank(levels: Levels, code: str) -> int:
    """How bad a class is: its place among the levels (0 is normal)."""
    for at, (name, _) in enumerate(levels):
        if name == code:
            return at
    raise ValueError(f"unknown class {code}")


def with_borrower_class(levels: Levels, own: str, worst: int) -> tuple[str, str | None]:
    """A loan's class under the borrower-level rule, when its own evidence gives `own` and
    the borrower's worst live loan stands `worst` places down its own ladder (0 is normal;
    a shorter ladder stops at its last class): the worse of the two, and the own class to
    keep beside it when the rule made it worse (None when it did not)."""
    at = min(worst, len(levels) - 1)
    if at <= rank(levels, own):
        return own, None
    return levels[at][0], own


def grade(
    levels: Levels,
    rule: UpgradeRule,
    current: str,
    dpd: int,
    held_since: date | None,
    on: date,
    on_time: Sequence[date],
    restructure: Restructure | None = None,
) -> Graded:
    """The class on `on` of a loan now in `current` with `dpd` days past due.

    `held_since` is when a held loan's arrears were paid (None if it is not held) and
    `on_time` the days each instalment due since then was known repaid on time.
    """
    graded = _on_evidence(levels, rule, current, dpd, held_since, on, on_time)
    if restructure is None or on >= restructure.until:
        return graded
    if rank(levels, graded.code) >= rank(levels, restructure.floor):
        return graded
    return Graded(
        restructure.floor,
        graded.held_since,
        f"restructured: at least {restructure.floor} until {restructure.until}",
    )


def _on_evidence(
    levels: Levels,
    rule: UpgradeRule,
    current: str,
    dpd: int,
    held_since: date | None,
    on: date,
    on_time: Sequence[date],
) -> Graded:
    by_dpd = classification_for(dpd, levels)
    now, down = rank(levels, current), rank(levels, by_dpd)
    if down >= now or now < rule.held_rank(levels):
        return Graded(by_dpd, None, f"{dpd} days past due")
    if dpd > 0:
        return Graded(current, None, f"held at {current}: arrears unpaid, {dpd} days past due")
    since = held_since or on
    months = _months(since, on)
    released = rule.release_on(since, on_time)
    if released is not None and released <= on:
        return Graded(
            by_dpd,
            None,
            f"arrears paid on {since}, then {len(on_time)} instalments repaid on time"
            f" and {_plural(months, 'month')}",
        )
    return Graded(
        current,
        since,
        f"held at {current}: arrears paid on {since}; {len(on_time)} of {rule.instalments}"
        f" instalments repaid on time, {months} of {rule.months} months",
    )


def on_time_days(
    instalments: Iterable[tuple[date, date | None]], after: date, on: date, grace_days: int
) -> list[date]:
    """For each instalment due after `after` and by `on`, in due order, the day it was
    known repaid on time (its due date, or the day paid within grace); it stops at the
    first one not repaid on time: only consecutive ones count."""
    found: list[date] = []
    for due, paid in sorted(instalments, key=lambda item: item[0]):
        if due <= after or due > on:
            continue
        if paid is None or paid > due + timedelta(days=grace_days) or paid > on:
            break
        found.append(max(due, paid))
    return found


def class_on(
    on: date,
    instalments: Sequence[tuple[date, date | None]],
    grace_days: int,
    levels: Levels,
    rule: UpgradeRule,
    restructure: Restructure | None = None,
    since: date | None = None,
) -> str:
    """The class on `on` of a loan with these (due date, paid-in-full date) instalments,
    as close of business would have graded it each day from `since` (its payout).

    Only the days on which something can change are visited: each day a level is
    reached, each payment, each due date and each day the evidence may complete.
    """
    days = _turning_days(on, instalments, grace_days, levels, rule, restructure, since)
    current, held = levels[0][0], None
    for day in days:
        dpd = _dpd_on(day, instalments, grace_days)
        seen = on_time_days(instalments, held, day, grace_days) if held is not None else []
        graded = grade(levels, rule, current, dpd, held, day, seen, restructure)
        current, held = graded.code, graded.held_since
    return current


def _turning_days(
    on: date,
    instalments: Sequence[tuple[date, date | None]],
    grace_days: int,
    levels: Levels,
    rule: UpgradeRule,
    restructure: Restructure | None,
    since: date | None,
) -> list[date]:
    days: set[date] = {on}
    if restructure is not None:
        days.add(restructure.until)
    for due, paid in instalments:
        days.add(due)
        for _, min_dpd in levels:
            days.add(due + timedelta(days=max(min_dpd, grace_days + 1)))
        if paid is not None:
            days.add(paid)
            days.update(add_months(paid, rule.months) + timedelta(days=k) for k in (0, 1))
    start = since or min((d for d in days), default=on)
    return sorted(d for d in days if start <= d <= on)


def _dpd_on(on: date, instalments: Sequence[tuple[date, date | None]], grace_days: int) -> int:
    oldest = min(
        (due for due, paid in instalments if due < on and (paid is None or paid > on)),
        default=None,
    )
    return 0 if oldest is None else effective_dpd((on - oldest).days, grace_days)


def _months(start: date, end: date) -> int:
    """Whole months from `start` to `end`."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if add_months(start, months) > end else months


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
