"""What the steps of one business date share for one chunk, and how it is written.

The steps run in the order `cob.yaml` lists them and each sees what the earlier
ones decided. A loan's row is written once for the day, whatever the steps did
to it (charges fallen due, a move through the machine, penalty, a write-off),
with the version the sweep read in its WHERE clause, after the set-based
statement that closes the whole range through the day. On a large book the
cost of a night is mostly pages written: each page of loans is dirtied by that
one statement, and the few loans with news are then written into pages
already dirty, once each, instead of by one update per step.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol

from lendflow.config.cob import CobConfig
from lendflow.config.product_spec import ProductSpec
from lendflow.domain.accrual import NO_TERMS, Terms
from lendflow.domain.business_days import BusinessCalendar, dates_in_grace
from lendflow.domain.errors import Conflict
from lendflow.products.catalogue import spec_of
from lendflow.store import cob_chunk_marks, events
from lendflow.store import cob_queries as q
from lendflow.store import products as product_store
from lendflow.store.cob_ledger import LedgerLine, post_entry
from lendflow.store.uow import UnitOfWork

if TYPE_CHECKING:
    from lendflow.config.policy import Policy

# An unpaid instalment fallen due: (id, loan id, due date, principal, interest, fee,
# penalty still owed), as `cob_queries.ARREARS` reads it.
Item = tuple[Any, ...]
DAY = timedelta(days=1)


@dataclass(slots=True)
class LoanDay:
    """One loan the day's sweep reads or changes: its row as read, and what today adds."""

    id: int
    version: int
    interest: int  # receivables as read
    fee: int
    penalty: int
    principal: int = 0
    customer_id: int = 0
    product_version_id: int = 0
    state: str = ""  # as read
    dpd: int = 0
    bucket: str = ""
    classification: str = ""
    held_since: date | None = None  # as read
    restructured_on: date | None = None
    overdue_principal_days: int = 0  # as read: fen-days of principal past due so far
    principal_days: int = 0  # as read: fen-days of principal through the day before
    own_classification: str | None = None  # as read: its own class, if the rule's is worse
    judged: bool = False  # read in full and judged by the delinquency step
    spec: ProductSpec | None = None
    items: list[Item] = field(default_factory=list)
    days_late: int = 0  # since the oldest unpaid due date, grace or not
    new_state: str = ""
    new_dpd: int = 0
    new_bucket: str = ""
    new_classification: str = ""
    new_held_since: date | None = None
    new_own_classification: str | None = None  # its own class, when the borrower's is worse
    reason: str = ""  # why the class is what it is today
    trigger: str | None = None  # the day's move through the loan machine, if any
    moved: bool = False  # status, days past due, bucket or class changed
    written_off: bool = False  # moved to written_off with balances to take off the books
    add_interest: int = 0
    add_fee: int = 0
    add_penalty: int = 0
    # accrual (`domain.accrual`), as read: the running period, what is accrued of it
    # through the day before, non-accrual and the amounts held in suspense
    terms: Terms | None = None
    accrued: int = 0
    non_accrual_since: date | None = None
    interest_suspended: int = 0
    penalty_suspended: int = 0
    # ... and what today changes of it
    new_terms: dict[str, int | None] | None = None  # a new running period (after one fell due)
    taken_from_accrual: int = 0  # interest of the instalments fallen due today, whole
    new_non_accrual: date | None = None
    non_accrual_changed: bool = False
    add_interest_suspended: int = 0
    add_penalty_suspended: int = 0
    accrual_cleared: bool = False  # written off: nothing accrues, nothing is held any more

    @classmethod
    def of_charged(cls, row: tuple[Any, ...]) -> LoanDay:
        """From `cob_queries._CHARGED_LOAN_COLUMNS` (id, version, receivables, accrual)."""
        loan = cls(*row[:5])
        loan.read_accrual(row[5:])
        return loan

    def read_accrual(self, row: tuple[Any, ...]) -> None:
        """Take the columns of `cob_queries.ACCRUAL_COLUMNS`."""
        start, days, interest, waived, accrued, since, interest_held, penalty_held = row
        self.terms = Terms(start, days, interest, waived) if start is not None else None
        self.accrued = accrued
        self.non_accrual_since = q.as_date(since) if since is not None else None
        self.new_non_accrual = self.non_accrual_since
        self.interest_suspended, self.penalty_suspended = interest_held, penalty_held

    def accrued_after(self, d: date) -> int:
        """`interest_accrued` once today is closed: what the running period has earned by
        today (the day's accrual; none without a period), less the interest of
        instalments fallen due today."""
        earned_today = self.terms.earned(d) if self.terms is not None else 0
        return earned_today - self.taken_from_accrual

    @property
    def accruing(self) -> bool:
        """Accruing to income (not in non-accrual) after what the steps decided so far."""
        return self.new_non_accrual is None

    @property
    def accrual_changed(self) -> bool:
        return (
            self.new_terms is not None
            or self.non_accrual_changed
            or self.accrual_cleared
            or bool(self.add_interest_suspended or self.add_penalty_suspended)
        )

    @property
    def live(self) -> bool:
        """Still in the live book after what the steps decided so far."""
        return not self.judged or self.new_state in q.LIVE

    @property
    def charged(self) -> bool:
        return bool(self.add_interest or self.add_fee or self.add_penalty)

    @property
    def overdue_principal(self) -> int:
        """The principal past due at today's close: that of the instalments in arrears, as
        the delinquency step leaves them (one in its holiday grace is not)."""
        return sum(item[3] for item in self.items)

    def read_in_full(self, row: tuple[Any, ...]) -> None:
        """Take the columns of `cob_queries.LOAN_COLUMNS` (same version, same balances)."""
        (
            _,
            self.state,
            self.version,
            self.customer_id,
            self.product_version_id,
            self.dpd,
            self.bucket,
            self.classification,
            self.principal,
            self.interest,
            self.fee,
            self.penalty,
            held_since,
            restructured_on,
            self.overdue_principal_days,
            self.own_classification,
            self.principal_days,
            *accrual,
        ) = row
        self.read_accrual(tuple(accrual))
        self.held_since = q.as_date(held_since) if held_since is not None else None
        self.restructured_on = q.as_date(restructured_on) if restructured_on is not None else None
        self.new_state = self.state
        self.new_own_classification = self.own_classification
        self.judged = True

    def judgement_changes(self) -> dict[str, Any]:
        """The judged columns the day changed, and only those. An overdue loan ages a day
        every night and mostly keeps its status and class: writing them again would
        rewrite their index entries (the status index, the partial ones of the classed
        and the held) for nothing: a fifth of the time of the night's loan writes."""
        judged = (
            ("state", self.state, self.new_state),
            ("dpd", self.dpd, self.new_dpd),
            ("bucket", self.bucket, self.new_bucket),
            ("classification", self.classification, self.new_classification),
            ("own_classification", self.own_classification, self.new_own_classification),
            ("held_since", self.held_since, self.new_held_since),
        )
        return {column: new for column, read, new in judged if new != read}

    @property
    def evidence_class(self) -> str:
        """The class its own evidence gave it, as read (a borrower's worse one aside)."""
        return self.own_classification or self.classification


class NoticeIssuer(Protocol):
    """Starts rendering a chunk's overdue notices (`notices.RenderedNotices`)."""

    def start(self, uow: UnitOfWork, loan_ids: list[int], on: date) -> StartedNotices: ...


class StartedNotices(Protocol):
    def finish(self, uow: UnitOfWork) -> list[str | None]:
        """Each notice's document SHA-256, None where it could not be rendered."""
        ...


class Day:
    """The working set of one chunk on one business date."""

    def __init__(
        self,
        uow: UnitOfWork,
        lo: int,
        hi: int,
        d: date,
        actor: str,
        config: CobConfig,
        policy: Policy,
        calendar: BusinessCalendar | None = None,
    ) -> None:
        self.uow, self.lo, self.hi, self.d, self.actor = uow, lo, hi, d, actor
        self.config, self.policy = config, policy
        self.calendar = calendar
        self._grace: frozenset[date | str] | None = None
        self._on_time_until: dict[date | str, date] = {}
        self.notices: NoticeIssuer | None = None
        self.quiet = False
        """Rebuilding a loan's state for a day whose entries and events stand (reprocessing):
        rows are written, nothing is posted or appended."""
        self.counts: Counter[str] = Counter()
        self.loans: dict[int, LoanDay] = {}
        self.events: list[events.NewEvent] = []
        self._specs: dict[int, ProductSpec] = {}
        self.finishing: list[Callable[[], None]] = []
        """Work a step started that ends just before the commit (notices rendering meanwhile)."""
        self.accrued = False
        """The day's accrual was posted (`accrue_interest`): the watermark's statement
        moves each loan's accrued interest with it."""
        self.mark: cob_chunk_marks.ChunkMark = cob_chunk_marks.NO_MARK
        """The range's mark, as `cob_chunk_marks.prepare` found it before the steps."""
        self.following: int | None = None
        """How many loans follow the range's open mark, counted by the accrual's pass over
        the range (no step before the day's close changes who follows it)."""

    @property
    def params(self) -> dict[str, Any]:
        return {
            "lo": self.lo,
            "hi": self.hi,
            "d": self.d,
            "prev": self.d - DAY,
            "day": self.d.toordinal(),
            "following": self.mark.open,
            "converts": self.mark.converts,
        }

    def spec(self, version_id: int) -> ProductSpec:
        if version_id not in self._specs:
            self._specs[version_id] = spec_of(product_store.version_by_id(self.uow, version_id))
        return self._specs[version_id]

    def grace(self) -> frozenset[date | str]:
        """Due dates still within their holiday grace on this date (`grace_dues`), as
        dates and as ISO text (how SQLite returns them): worked out once per date and
        chunk, and only if a loan of a product that grants it is judged."""
        if self._grace is None:
            if self.calendar is None:
                raise Conflict("close of business was given no business-day calendar")
            self._grace = dates_in_grace(self.calendar.grace_dues(self.d))
            if not self.calendar.knows(self.d - DAY):
                self.counts["weekends_only_judgements"] += 1
        return self._grace

    def on_time_until(self, due: date | str) -> date:
        """The last on-time day of a due date as the driver returned it (its next working
        day), once per distinct date and chunk: loans share their oldest due dates."""
        found = self._on_time_until.get(due)
        if found is None:
            assert self.calendar is not None  # `grace()` refused a day without one first
            found = self.calendar.next_working_day(q.as_date(due))
            self._on_time_until[due] = found
        return found

    def post(self, *, kind: str, lines: list[LedgerLine]) -> None:
        """Post the step's entry for the day, unless the day is only being rebuilt."""
        if not self.quiet:
            post_entry(self.uow, kind=kind, lines=lines, business_date=self.d, actor=self.actor)

    def finish(self) -> None:
        """Run what the steps left to the end of the day's transaction, in their order."""
        for work in self.finishing:
            work()
        self.finishing.clear()

    def judged(self) -> list[LoanDay]:
        return [loan for loan in self.loans.values() if loan.judged]

    def event(
        self,
        loan_id: int,
        customer_id: int,
        name: str,
        trigger: str | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        **payload: Any,
    ) -> None:
        self.events.append(
            events.NewEvent(
                entity="loan",
                entity_id=str(loan_id),
                name=name,
                actor=self.actor,
                business_date=self.d,
                payload={"customer_id": customer_id, **payload},
                trigger=trigger,
                from_state=from_state,
                to_state=to_state,
            )
        )

    def close(self) -> tuple[int, bool]:
        """Close the day for the range: how many loans it closed, and whether that was all.

        Every live loan closed through the day before moves its watermark in one
        set-based statement, which also dirties every page of the range's loans
        once; then each loan the steps changed is written once (those pages
        already dirty), with the version the sweep read. A loan written off today
        keeps the watermark it had, as every loan that leaves the live book does.
        When the live loans now closed through today are not all the range's live
        loans, some were behind (or ahead): the caller looks for them.
        """
        closed = q.close_watermark(self.uow, self.params, self.accrued)
        if self.mark.open:
            # closed through today by the mark; a range keeps one only if the day accrues
            # (`CobConfig.follows_marks`), and the accrual's pass counted them
            assert self.following is not None
            closed += self.following
        now = q.utc_now()
        rows: list[dict[str, Any]] = []
        for loan in self.loans.values():
            overdue = loan.overdue_principal if loan.live else 0
            if not (loan.moved or loan.charged or loan.accrual_changed or overdue):
                continue
            row: dict[str, Any] = {
                "b_id": loan.id,
                "b_version": loan.version,
                "interest_receivable": loan.interest + loan.add_interest,
                "fee_receivable": loan.fee + loan.add_fee,
                "penalty_receivable": loan.penalty + loan.add_penalty,
            }
            if loan.moved:
                row.update(loan.judgement_changes(), version=loan.version + 1, updated_at=now)
            # only what changed: `non_accrual_since` is the condition of a partial index
            if loan.non_accrual_changed:
                row["non_accrual_since"] = loan.new_non_accrual
            if loan.add_interest_suspended:
                row["interest_suspended"] = loan.interest_suspended + loan.add_interest_suspended
            if loan.add_penalty_suspended:
                row["penalty_suspended"] = loan.penalty_suspended + loan.add_penalty_suspended
            if overdue:
                # the cap's stricter base, where the delinquency step found the arrears
                row["overdue_principal_days"] = loan.overdue_principal_days + overdue
            if loan.new_terms is not None:
                row.update(loan.new_terms, interest_accrued=loan.accrued_after(self.d))
            if loan.accrual_cleared:
                row.update(NO_TERMS, interest_accrued=0, interest_suspended=0, penalty_suspended=0)
            if not loan.live:
                row["cob_through"] = self.d - DAY  # as it was: closed through the day before
            if not (loan.live and loan.accruing):
                row["follows_from"] = None  # its figures move loan by loan from now on
            if loan.written_off:
                # a second version: the move, then its balances taken off the books
                row.update(
                    version=loan.version + 2,
                    principal_outstanding=0,
                    interest_receivable=0,
                    fee_receivable=0,
                    penalty_receivable=0,
                    written_off_amount=loan.principal,
                )
            rows.append(row)
        if self.mark.open:
            # only a loan whose accrual or principal changes today needs its figures made
            # current: an overdue one ageing a day follows on from where it stood
            changing = [
                loan.id
                for loan in self.loans.values()
                if loan.new_terms is not None or loan.non_accrual_changed or not loan.live
            ]
            q.rebase(self.uow, self.params, changing)
        set_checked(self.uow, rows)
        if self.mark.converts and self.accrued:
            cob_chunk_marks.advance(self.uow, self.lo, self.hi, self.d)
        left = sum(1 for loan in self.loans.values() if not loan.live)
        live = q.live_count(self.uow, self.params)
        return closed, live == closed - left


def set_checked(uow: UnitOfWork, changes: list[dict[str, Any]]) -> None:
    """Per-loan updates carrying each loan's version: a concurrent change is a conflict."""
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        by_keys[tuple(sorted(change))].append(change)
    for keys, batch in by_keys.items():
        values = itemgetter(*keys)  # a tuple: every change names at least id and version
        written = q.execute_rows(uow, q.SET_LOAN, keys, [values(change) for change in batch])
        if written not in (len(batch), -1):
            raise Conflict("a loan changed while close of business ran; the chunk will be retried")
