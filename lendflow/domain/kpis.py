"""Portfolio indicators of a product, as of any business date.

History is rebuilt from what never changes after the fact: instalment due dates
and the dates they were paid in full, and the ledger's dated principal
movements. So a review of last March shows last March, whenever it is run.
Definitions, the microfinance convention:

- PAR n: principal outstanding of loans more than n days past due, over all
  principal outstanding (PAR1 counts any day past due);
- non-performing ratio: principal outstanding of loans classed substandard,
  doubtful or loss (次级 + 可疑 + 损失), over all principal outstanding;
- vintage: for loans disbursed in a month, the share of their principal that
  has ever been more than 30 days past due, by months on book;
- roll rates: how loans in each bucket at one month end stand at the next.

Days past due are rebuilt without the arrears tolerance (part-payments are not
dated per instalment); close of business applies it to the live figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from lendflow.domain.calendar import add_months
from lendflow.domain.classification import Restructure, UpgradeRule, class_on, rank
from lendflow.domain.delinquency import bucket_for, classification_for, effective_dpd

RATIO = Decimal("0.0001")
NON_PERFORMING = ("substandard", "doubtful", "loss")
CLOSED_BUCKETS = ("closed", "written_off")


@dataclass(frozen=True, slots=True)
class LoanRecord:
    """One loan's dated facts; `instalments` are (due date, paid in full on)."""

    loan_id: int
    applied_on: date
    decided_on: date | None
    approved: bool
    rejected: bool
    disbursed_on: date | None
    principal: int
    instalments: tuple[tuple[date, date | None], ...] = ()
    written_off_on: date | None = None
    restructured_on: date | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """A loan on one date: principal outstanding, days past due, bucket and class."""

    outstanding: int
    dpd: int
    bucket: str
    classification: str


def ratio(part: int, whole: int) -> Decimal:
    """part / whole to four places; 0 when there is nothing to divide."""
    if whole == 0:
        return Decimal(0)
    return (Decimal(part) / whole).quantize(RATIO, ROUND_HALF_UP)


def dpd_on(on: date, instalments: Iterable[tuple[date, date | None]], grace_days: int) -> int:
    """Days since the oldest instalment due by `on` and not yet paid in full at its close."""
    oldest = min(
        (due for due, paid in instalments if due <= on and (paid is None or paid > on)),
        default=None,
    )
    if oldest is None:
        return 0
    return effective_dpd((on - oldest).days, grace_days)


@lru_cache(maxsize=65_536)
def first_day_beyond(instalments: tuple[tuple[date, date | None], ...], days: int) -> date | None:
    """The first date the loan was more than `days` past due, if it ever was.

    Remembered per schedule: the indicators ask it of every loan at every month end,
    and the answer does not depend on the date asked about."""
    dates = [
        due + timedelta(days=days + 1)
        for due, paid in instalments
        if paid is None or paid > due + timedelta(days=days + 1)
    ]
    return min(dates, default=None)


def standing(
    loan: LoanRecord,
    on: date,
    outstanding: int,
    grace_days: int,
    buckets: Sequence[tuple[str, int | None]],
    classes: Sequence[tuple[str, int]],
    upgrade: UpgradeRule | None = None,
    restructure: Restructure | None = None,
) -> Standing | None:
    """The loan's standing on `on`; None before disbursement. Closed and written-off
    loans stand in buckets of their own. With the `upgrade` rule, a loan that was ever
    non-performing keeps the class close of business held it at until the evidence was
    in (`domain.classification`), so the non-performing ratio is not understated; a
    restructured loan stands no better than its floor (`restructure`, from the day it
    was restructured until its observation period ends), as close of business holds it."""
    if loan.disbursed_on is None or loan.disbursed_on > on:
        return None
    if loan.written_off_on is not None and loan.written_off_on <= on:
        return Standing(0, 0, "written_off", "loss")
    if outstanding <= 0:
        return Standing(0, 0, "closed", classes[0][0])
    dpd = dpd_on(on, loan.instalments, grace_days)
    klass = classification_for(dpd, classes)
    if upgrade is not None:
        held_from = classes[upgrade.held_rank(classes)][1]
        first = first_day_beyond(loan.instalments, max(held_from, grace_days + 1) - 1)
        if first is not None and first <= on:
            klass = class_on(on, loan.instalments, grace_days, classes, upgrade, None, first)
    if restructure is not None and loan.restructured_on is not None:
        observed = loan.restructured_on <= on < restructure.until
        if observed and rank(classes, klass) < rank(classes, restructure.floor):
            klass = restructure.floor
    return Standing(outstanding, dpd, bucket_for(dpd, buckets), klass)


def portfolio(
    loans: Sequence[LoanRecord], standings: Mapping[int, Standing], on: date
) -> dict[str, object]:
    """The headline indicators on `on` over the given loans."""
    applied = [x for x in loans if x.applied_on <= on]
    decided = [x for x in applied if x.decided_on is not None and x.decided_on <= on]
    approved = [x for x in decided if x.approved]
    disbursed = [x for x in loans if x.disbursed_on is not None and x.disbursed_on <= on]
    live = [s for s in standings.values() if s.bucket not in CLOSED_BUCKETS]
    book = sum(s.outstanding for s in live)

    def at_risk(days: int) -> int:
        return sum(s.outstanding for s in live if s.dpd > days)

    non_performing = sum(s.outstanding for s in live if s.classification in NON_PERFORMING)
    written_off = [x for x in loans if x.written_off_on is not None and x.written_off_on <= on]
    return {
        "applications": len(applied),
        "decided": len(decided),
        "approved": len(approved),
        "approval_rate": ratio(len(approved), len(decided)),
        "disbursed_count": len(disbursed),
        "disbursed_amount": sum(x.principal for x in disbursed),
        "active_loans": len(live),
        "outstanding": book,
        "par1": ratio(at_risk(0), book),
        "par30": ratio(at_risk(30), book),
        "par90": ratio(at_risk(90), book),
        "non_performing_ratio": ratio(non_performing, book),
        "written_off_count": len(written_off),
        "written_off_amount": sum(x.principal for x in written_off),
        "buckets": dict(sorted(Counter(s.bucket for s in standings.values()).items())),
        "classes": dict(sorted(Counter(s.classification for s in live).items())),
    }


def month_ends(first: date, last: date) -> list[date]:
    """The last day of every month from `first`'s month to `last`'s, with `last` itself
    closing the final (possibly partial) month."""
    ends = []
    month = first.replace(day=1)
    while True:
        end = add_months(month, 1) - timedelta(days=1)
        if end >= last:
            ends.append(last)
            return ends
        ends.append(end)
        month = add_months(month, 1)


def roll_rates(
    before: Mapping[int, Standing], after: Mapping[int, Standing], order: Sequence[str]
) -> dict[str, dict[str, int]]:
    """From each bucket at one date, how many loans stand in each bucket at the next.
    Every loan in `before` appears once in its row, so each row sums to its bucket's count."""
    columns = [*order, *CLOSED_BUCKETS]
    matrix: dict[str, dict[str, int]] = {b: dict.fromkeys(columns, 0) for b in order}
    for loan_id, was in before.items():
        if was.bucket in CLOSED_BUCKETS:
            continue
        now = after.get(loan_id)
        matrix[was.bucket][now.bucket if now else was.bucket] += 1
    return matrix


def vintages(loans: Sequence[LoanRecord], on: date, days: int = 30) -> dict[str, list[Decimal]]:
    """For each disbursement month: the share of its principal ever more than `days`
    past due by the end of each month on book (month 1 = the month after disbursement),
    up to `on`."""
    cohorts: dict[str, list[LoanRecord]] = {}
    for loan in loans:
        if loan.disbursed_on is not None and loan.disbursed_on <= on:
            cohorts.setdefault(loan.disbursed_on.strftime("%Y-%m"), []).append(loan)
    curves: dict[str, list[Decimal]] = {}
    for month, members in sorted(cohorts.items()):
        start = members[0].disbursed_on.replace(day=1)  # type: ignore[union-attr]
        total = sum(x.principal for x in members)
        firsts = [(first_day_beyond(x.instalments, days), x.principal) for x in members]
        curve = []
        k = 1
        while True:
            end = add_months(start, k + 1) - timedelta(days=1)
            if end > on:
                break
            bad = sum(p for first, p in firsts if first is not None and first <= end)
            curve.append(ratio(bad, total))
            k += 1
        curves[month] = curve
    return curves
