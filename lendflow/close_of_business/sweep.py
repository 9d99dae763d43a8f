"""Close of business: the daily sweep over one id range of loans, set-based and exact.

For each business date a chunk runs the configured steps in one transaction
(`cob_steps`): approvals lapse, interest and fees falling due become receivable,
days past due are counted from the oldest unpaid instalment (grace and arrears
tolerance honoured), loans move through the loan machine (fall overdue, cure,
write off), bucket and five-category class are set, penalty interest for the day
is posted once, and collection notices are issued at their milestones. Each loan
records the last date closed (`cob_through`), so running a date again changes
nothing and a range closes exactly as its days would one by one; a loan left
behind is caught up from its own watermark.

Only loans with something to do are read into Python. The whole range moves its
watermark in one set-based statement, and each loan with news is then written
once for the day (`cob_day`). Concurrent repayments are safe: on PostgreSQL the
chunk locks its range first (`store.range_locks`: granules of ids, which every loan
action shares before it locks its loan), on SQLite the transaction holds the write
lock (BEGIN IMMEDIATE), and every per-loan update carries the loan's version.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING

from lendflow.close_of_business.day import Day, NoticeIssuer
from lendflow.close_of_business.notices import RenderedNotices
from lendflow.close_of_business.results import CobRun, PortfolioCounts, SweepCounts
from lendflow.close_of_business.steps import STEPS
from lendflow.config.cob import CobConfig, load_cob_config
from lendflow.domain.errors import BadInput
from lendflow.store import checkpoints, cob_chunk_marks, cob_runs, events
from lendflow.store import cob_queries as q
from lendflow.store.uow import UnitOfWork, run_in_transaction
from lendflow.workspace.anchors import anchor_chain
from lendflow.workspace.faults import fault_point

if TYPE_CHECKING:
    from lendflow.config.policy import Policy
    from lendflow.domain.business_days import BusinessCalendar
    from lendflow.workspace.context import Workspace

DAY = timedelta(days=1)
WARM_FROM = 10_000
"""Ranges of this many loan ids or more start the notice workers before their first date
(a smaller range seldom has a night's notices enough to send them to the workers), and
leave SQLite's checkpoints to a thread beside the sweep (`store.checkpoints`: a smaller
chunk's pages are few enough to copy back in its commit)."""
__all__ = [
    "STEPS",
    "check_dates",
    "close_range",
    "finish_run",
    "id_ranges",
    "portfolio_counts",
    "record_run",
]


def _close_day(
    uow: UnitOfWork,
    lo: int,
    hi: int,
    d: date,
    actor: str,
    config: CobConfig,
    policy: Policy,
    calendar: BusinessCalendar,
    notices: NoticeIssuer | None = None,
    quiet: bool = False,
) -> tuple[Counter[str], bool]:
    """Close `d` inside one transaction; also whether every live loan is now closed through it.

    `quiet` rebuilds the day's effect on the rows only (reprocessing a loan from a later
    date: the day's entries and events stand).
    """
    q.begin_chunk(uow, lo, hi)
    mark = cob_chunk_marks.prepare(uow, lo, hi, d, uses=config.follows_marks(lo, hi) and not quiet)
    day = Day(uow, lo, hi, d, actor, config, policy, calendar)
    day.mark = mark
    day.notices = notices
    day.quiet = quiet
    for step in config.steps:
        STEPS[step](day)
    scanned, settled = day.close()
    if not quiet:
        events.append_many(uow, day.events)  # while the notices render, if any
    day.finish()
    day.counts["loans_scanned"] += scanned
    fault_point("cob.inside_chunk")  # everything written, nothing committed
    return day.counts, settled


def close_range(
    ws: Workspace, lo: int, hi: int, first: date, last: date, actor: str, config: CobConfig
) -> SweepCounts:
    """Close every date from `first` to `last`, day by day, catching up loans left behind.

    A date closes the loans closed through the day before it. A loan further
    behind (one that missed runs, or was paid out into a date already closed for
    the rest of the range) is found when a date leaves it out, and is closed from
    its own watermark on, date by date, before the range goes on: every loan sees
    every date once and in order, and on a nightly run nothing is read twice.
    """
    check_dates(first, last, ws.today())
    totals: Counter[str] = Counter()
    notices = RenderedNotices(ws, config.processes_for_notices()) if config.render_notices else None
    large = hi - lo + 1 >= WARM_FROM
    if notices is not None and large:
        notices.warm()

    def close_in(uow: UnitOfWork, d: date) -> tuple[Counter[str], bool]:
        if large:
            checkpoints.defer(uow)
        return _close_day(uow, lo, hi, d, actor, config, ws.policy, ws.calendar, notices)

    def close(d: date) -> tuple[Counter[str], bool]:
        closed = run_in_transaction(ws.engine, lambda uow: close_in(uow, d))
        if large:
            checkpoints.request(ws.engine)
        return closed

    d = first
    while d <= last:
        counts, settled = close(d)
        totals.update(counts)
        if not settled:
            for behind in _dates_behind(ws, lo, hi, d):
                totals.update(close(behind)[0])
        d += DAY
    return SweepCounts.of(totals)


def close_loan_days(
    ws: Workspace,
    uow: UnitOfWork,
    loan_id: int,
    first: date,
    last: date,
    actor: str,
    quiet: bool = False,
) -> None:
    """Close `first` … `last` for one loan inside the caller's transaction (reprocessing).

    The same steps as the night's run, over a range of one id; no notice is rendered
    again (one already issued for a milestone is never issued twice). `quiet` only
    rebuilds the rows, for days whose entries and events stand.
    """
    config = _packaged_config()
    d = first
    while d <= last:
        _close_day(uow, loan_id, loan_id, d, actor, config, ws.policy, ws.calendar, quiet=quiet)
        d += DAY


@cache
def _packaged_config() -> CobConfig:
    """The packaged `cob.yaml`, read once per process: reprocessing a loan closes its days
    again one loan at a time, and reading the file each time cost more than a day."""
    return load_cob_config()


def _dates_behind(ws: Workspace, lo: int, hi: int, d: date) -> list[date]:
    """The dates up to `d` the range's furthest-behind live loan still needs."""

    def oldest_of(uow: UnitOfWork) -> date | None:
        found = [q.oldest_watermark(uow, lo, hi), cob_chunk_marks.oldest_mark(uow, lo, hi)]
        return min((when for when in found if when is not None), default=None)

    oldest = run_in_transaction(ws.engine, oldest_of)
    if oldest is None or oldest >= d:
        return []
    return [oldest + timedelta(days=n) for n in range(1, (d - oldest).days + 1)]


def id_ranges(ws: Workspace, chunk_size: int) -> list[tuple[int, int]]:
    """The book partitioned by loan id into ranges of `chunk_size` ids."""
    low, high = run_in_transaction(ws.engine, cob_runs.id_bounds)
    if low is None or high is None:
        return []
    return [
        (start, min(start + chunk_size - 1, high)) for start in range(low, high + 1, chunk_size)
    ]


def check_dates(first: date, last: date, today: date) -> None:
    """Refuse a range that ends before it starts, or closes a day that has not come.

    `today` is the real date (the workspace's clock). Close of business has no
    horizon: the policy's slack is for money dated a little ahead, never for closing a
    day (its penalty, due dates and days past due) before it has come.
    """
    if last < first:
        raise BadInput(f"the range ends ({last}) before it starts ({first})")
    if last > today:
        raise BadInput(f"cannot close {last}: it is after today ({today})")


def portfolio_counts(ws: Workspace) -> PortfolioCounts:
    """Live loans per bucket and per class, after the run."""
    counts = run_in_transaction(ws.engine, cob_runs.live_by_bucket_and_class)
    return PortfolioCounts(**counts)


def last_closed(ws: Workspace) -> date | None:
    """The latest business date close of business has closed (per its run records).

    A plain read: every console page shows it in its header, and a write transaction
    would wait on SQLite for a close of business holding the writer."""
    reader = ws.reader()
    try:
        return reader.last_closed()
    finally:
        reader.close()


def record_run(ws: Workspace, run: CobRun, actor: str) -> None:
    """Keep what a run did (dates, actor and its report as JSON), for the operators' record."""
    report = run.model_dump(mode="json")
    run_in_transaction(
        ws.engine, lambda uow: cob_runs.record_run(uow, run.first, run.last, actor, report)
    )


def finish_run(
    ws: Workspace, first: date, last: date, chunks: int, totals: SweepCounts, actor: str
) -> CobRun:
    """The run's report once every chunk has closed its dates: the book after it, and the
    event chain's head anchored outside the database for the last date closed (so a later
    deletion or rewrite of the day's events shows in `audit verify`); kept as the run's record."""
    checkpoints.settle(ws.engine)  # the database file current as the run ends
    anchor = anchor_chain(ws, last)
    run = CobRun.of(first, last, chunks, totals, portfolio_counts(ws), anchor)
    record_run(ws, run, actor)
    return run
