"""What close of business returns: a range's counts, the book after a run, the run itself.

One result per chunk of loans and one per run, never one per loan: the sweep counts in
plain integers while it works and builds its result once at the end.

Money here (`written_off_principal`, `penalty_accrued`) is integer fen, in JSON too:
that is what `lendflow cob run --json` has always printed and what each run's record
(`cob_runs.counts`) keeps, so scripts reading either go on working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from pydantic import Field

from lendflow.workspace.anchors import ChainAnchor
from lendflow.workspace.results import Result


def _absent_if_zero(value: int) -> bool:
    return value == 0


class BookkeepingCounts(Result):
    """What a sweep and a run report only when it happened: accrual, non-accrual, the
    month end's provisions and days judged by weekends alone (each absent at zero)."""

    interest_accrued: int = Field(default=0, exclude_if=_absent_if_zero)
    """Fen of contract interest accrued to income (daily accrual)."""
    interest_suspended: int = Field(default=0, exclude_if=_absent_if_zero)
    """Fen of contract interest accrued to suspense: loans in non-accrual."""
    penalty_suspended: int = Field(default=0, exclude_if=_absent_if_zero)
    """Fen of penalty interest charged to suspense: loans in non-accrual."""
    stopped_accruing: int = Field(default=0, exclude_if=_absent_if_zero)
    """Loans that went into non-accrual."""
    accrual_resumed: int = Field(default=0, exclude_if=_absent_if_zero)
    """Loans graded back above non-accrual, accruing to income again."""
    income_reversed: int = Field(default=0, exclude_if=_absent_if_zero)
    """Fen of interest and penalty taken back from income into suspense."""
    provision_charged: int = Field(default=0, exclude_if=_absent_if_zero)
    """Fen the month-end provisions moved the allowance by, net (a release is negative;
    shown only if any)."""
    weekends_only_judgements: int = Field(default=0, exclude_if=_absent_if_zero)
    """Chunk-dates whose holiday grace was judged by weekends alone: a year the calendar
    does not list, under the lender's `unknown_years: weekends_only` (shown only if any)."""


class SweepCounts(BookkeepingCounts):
    """What closing business dates over a range of loans did."""

    loans_scanned: int = 0
    """Loan-days looked at (a loan closed over three dates counts three times)."""
    became_overdue: int = 0
    cured: int = 0
    written_off: int = 0
    written_off_principal: int = 0
    """Fen of principal taken off the books by write-offs."""
    approvals_expired: int = 0
    penalty_accrued: int = 0
    """Fen of penalty interest accrued."""
    penalty_capped: int = 0
    """Fen of penalty interest not charged: the all-in charges cap left no room for it."""
    instalments_fell_due: int = 0
    reclassified: int = 0
    """Loans whose five-category class changed without a move."""
    notices: int = 0
    """Collection notices issued."""
    notices_not_rendered: int = 0
    """Notices recorded and counted whose document could not be rendered."""

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> SweepCounts:
        """From the counter a sweep keeps while it works (every key must be a count here)."""
        return cls(**counts)

    def __add__(self, other: SweepCounts) -> SweepCounts:
        names = SweepCounts.model_fields
        return SweepCounts(**{name: getattr(self, name) + getattr(other, name) for name in names})

    @classmethod
    def total(cls, parts: Iterable[SweepCounts]) -> SweepCounts:
        return sum(parts, cls())


class PortfolioCounts(Result):
    """Live loans per bucket and per five-category class, each sorted by name."""

    buckets: dict[str, int]
    classes: dict[str, int]


class CobRun(BookkeepingCounts):
    """A close-of-business run: the dates it closed, in how many chunks, what it did,
    and the live book after it."""

    first: date = Field(alias="from")
    last: date = Field(alias="to")
    chunks: int
    loans_scanned: int
    became_overdue: int
    cured: int
    written_off: int
    written_off_principal: int
    """Fen."""
    approvals_expired: int
    penalty_accrued: int
    """Fen."""
    penalty_capped: int = 0
    """Fen of penalty not charged under the all-in charges cap (0 in runs recorded
    before the cap)."""
    instalments_fell_due: int
    reclassified: int
    notices: int
    buckets: dict[str, int]
    classes: dict[str, int]
    anchor: ChainAnchor | None = None
    """The event chain's head as anchored outside the database when the run finished."""

    @classmethod
    def of(
        cls,
        first: date,
        last: date,
        chunks: int,
        counts: SweepCounts,
        after: PortfolioCounts,
        anchor: ChainAnchor | None = None,
    ) -> CobRun:
        """The run's report: the counts a run has always reported (not
        `notices_not_rendered`), the book after it and the chain's anchor."""
        kept = counts.model_dump(exclude={"notices_not_rendered"})
        return cls(
            first=first, last=last, chunks=chunks, **kept, **after.model_dump(), anchor=anchor
        )

    @classmethod
    def combined(cls, runs: Sequence[CobRun]) -> CobRun:
        """Runs of consecutive dates, oldest first, as one report for the whole range: its
        counts summed; its chunks, the book and the anchor as the last run left them."""
        counted = set(SweepCounts.model_fields) - {"notices_not_rendered"}
        sums = {name: sum(getattr(run, name) for run in runs) for name in counted}
        return runs[-1].model_copy(update={"first": runs[0].first, **sums})


class RecordedRun(Result):
    """A run as close of business recorded it: when, by whom, and its report."""

    id: int
    first: date = Field(alias="from")
    last: date = Field(alias="to")
    actor: str
    recorded_at: datetime
    """Wall-clock UTC time the run was recorded, for the record only."""
    report: CobRun


class RecordedRuns(Result):
    """A page of the recorded runs, newest first, and how many there are in all."""

    total: int
    items: tuple[RecordedRun, ...]
