"""Close of business: the daily sweep over one id range of loans, set-based and exact.

For each business date a chunk runs the configured steps in one transaction:
approvals lapse, interest and fees falling due become receivable, days past
due are counted from the oldest unpaid instalment (grace and arrears tolerance
honoured), loans move through the loan machine (fall overdue, cure, write off),
bucket and five-category class are set, penalty interest for the day is
posted once, and collection notices are issued at their milestones. Each loan
records the last date closed (`cob_through`), so running a date again changes
nothing and a range closes exactly as its days would one by one.

Only loans with something to do are read into Python (past-due instalments,
previously delinquent loans, instalments falling due); the rest of the book is
touched once, set-based, to move its watermark. Concurrent repayments are
safe: on PostgreSQL the chunk locks its loans first (SELECT … FOR UPDATE), on
SQLite the transaction holds the write lock (BEGIN IMMEDIATE), and every
per-loan update carries the loan's version.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, exists, func, insert, select, update

from lendflow.config.cob import CobConfig
from lendflow.config.product_spec import ProductSpec
from lendflow.domain.calendar import year_length
from lendflow.domain.delinquency import (
    bucket_for,
    classification_for,
    daily_penalty,
    days_late,
    effective_dpd,
)
from lendflow.domain.errors import BadInput, Conflict
from lendflow.domain.ledger import Account, Line
from lendflow.services.products import spec_of
from lendflow.states.machine import machine
from lendflow.store import events, journal
from lendflow.store import products as product_store
from lendflow.store.bulk import execute_many
from lendflow.store.tables import instalments, loans, notices, payouts, utc_now
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.config.policy import Policy
    from lendflow.services.context import Workspace

LIVE = ("active", "overdue")

_WATERMARKS = select(func.min(loans.c.cob_through), func.max(loans.c.cob_through)).where(
    loans.c.id.between(bindparam("lo"), bindparam("hi")), loans.c.state.in_(LIVE)
)
_LOCK = (
    select(loans.c.id)
    .where(loans.c.id.between(bindparam("lo"), bindparam("hi")), loans.c.state.in_(LIVE))
    .with_for_update()
)
# "+ 0" keeps planners off the loan_id index, so they read the small partial indexes of
# open and unrecognised instalments by due date and filter the id range from there.
_ID_RANGE = (instalments.c.loan_id + 0).between(bindparam("lo"), bindparam("hi"))
_EXPIRING = select(
    loans.c.id, loans.c.version, loans.c.customer_id, loans.c.approval_expires_on
).where(
    loans.c.id.between(bindparam("lo"), bindparam("hi")),
    loans.c.state == "approved",
    loans.c.approval_expires_on < bindparam("d"),
    # a payout already sent may have been paid: it must be finished, never expired
    ~exists().where(payouts.c.loan_id == loans.c.id, payouts.c.status.in_(("pending", "paid"))),
)
_FALLING_DUE = select(
    instalments.c.id,
    instalments.c.loan_id,
    (instalments.c.interest - instalments.c.interest_paid - instalments.c.interest_waived),
    (instalments.c.fee - instalments.c.fee_paid - instalments.c.fee_waived),
).where(
    instalments.c.recognised == False,  # noqa: E712 - matches the partial index
    instalments.c.due_date <= bindparam("d"),
    _ID_RANGE,
)
_LIVE_AND_OPEN = select(loans.c.id).where(
    loans.c.id.in_(bindparam("ids", expanding=True)),
    loans.c.state.in_(LIVE),
    loans.c.cob_through < bindparam("d"),
)
_PAST_DUE = select(
    instalments.c.id,
    instalments.c.loan_id,
    instalments.c.due_date,
    instalments.c.principal - instalments.c.principal_paid,
    instalments.c.interest - instalments.c.interest_paid - instalments.c.interest_waived,
    instalments.c.fee - instalments.c.fee_paid - instalments.c.fee_waived,
    instalments.c.penalty - instalments.c.penalty_paid,
).where(
    instalments.c.paid_on.is_(None),
    instalments.c.due_date < bindparam("d"),
    _ID_RANGE,
)
_LOAN_COLUMNS = (
    loans.c.id,
    loans.c.state,
    loans.c.version,
    loans.c.customer_id,
    loans.c.product_version_id,
    loans.c.dpd,
    loans.c.bucket,
    loans.c.classification,
    loans.c.principal_outstanding,
    loans.c.interest_receivable,
    loans.c.fee_receivable,
    loans.c.penalty_receivable,
)
_DELINQUENT_BEFORE = select(*_LOAN_COLUMNS).where(
    loans.c.id.between(bindparam("lo"), bindparam("hi")),
    loans.c.state.in_(LIVE),
    loans.c.cob_through < bindparam("d"),
    (loans.c.dpd > 0) | (loans.c.state == "overdue"),
)
_BY_IDS = select(*_LOAN_COLUMNS).where(
    loans.c.id.in_(bindparam("ids", expanding=True)),
    loans.c.state.in_(LIVE),
    loans.c.cob_through < bindparam("d"),
)
_MARK_RECOGNISED = (
    update(instalments).where(instalments.c.id == bindparam("b_id")).values(recognised=True)
)
_ADD_CHARGES = (
    update(loans)
    .where(loans.c.id == bindparam("b_id"))
    .values(
        interest_receivable=loans.c.interest_receivable + bindparam("b_interest"),
        fee_receivable=loans.c.fee_receivable + bindparam("b_fee"),
    )
)
_SET_DELINQUENCY = update(loans).where(
    loans.c.id == bindparam("b_id"), loans.c.version == bindparam("b_version")
)
_ADD_PENALTY = (
    update(instalments)
    .where(instalments.c.id == bindparam("b_id"))
    .values(penalty=instalments.c.penalty + bindparam("b_amount"))
)
_ADD_PENALTY_RECEIVABLE = (
    update(loans)
    .where(loans.c.id == bindparam("b_id"))
    .values(penalty_receivable=loans.c.penalty_receivable + bindparam("b_amount"))
)
_WATERMARK = (
    update(loans)
    .where(
        loans.c.id.between(bindparam("lo"), bindparam("hi")),
        loans.c.state.in_(LIVE),
        loans.c.cob_through < bindparam("d"),
    )
    .values(cob_through=bindparam("d"))
)
_NOTICES_SENT = select(notices.c.loan_id, notices.c.dpd).where(
    notices.c.loan_id.in_(bindparam("ids", expanding=True)), notices.c.kind == "collection"
)
_INSERT_NOTICE = insert(notices).inline()
_ID_BATCH = 900  # below SQLite's bound-parameter limit on old builds


@dataclass
class Candidate:
    """A loan the day's sweep must look at, with its open past-due instalments."""

    row: dict[str, Any]
    spec: ProductSpec
    open_items: list[tuple[Any, ...]] = field(default_factory=list)
    dpd: int = 0
    days_late: int = 0  # since the oldest unpaid due date, grace or not
    state: str = ""
    bucket: str = ""
    classification: str = ""


class _Day:
    """What the steps of one business date share for one chunk."""

    def __init__(
        self,
        uow: UnitOfWork,
        lo: int,
        hi: int,
        d: date,
        actor: str,
        config: CobConfig,
        policy: Policy,
    ) -> None:
        self.uow, self.lo, self.hi, self.d, self.actor = uow, lo, hi, d, actor
        self.config, self.policy = config, policy
        self.counts: Counter[str] = Counter()
        self.candidates: dict[int, Candidate] = {}
        self.events: list[events.NewEvent] = []
        self._specs: dict[int, ProductSpec] = {}

    @property
    def params(self) -> dict[str, Any]:
        return {"lo": self.lo, "hi": self.hi, "d": self.d}

    def spec(self, version_id: int) -> ProductSpec:
        if version_id not in self._specs:
            self._specs[version_id] = spec_of(product_store.version_by_id(self.uow, version_id))
        return self._specs[version_id]

    def event(
        self, row: dict[str, Any], name: str, trigger: str | None, to: str | None, **payload: Any
    ) -> None:
        self.events.append(
            events.NewEvent(
                entity="loan",
                entity_id=str(row["id"]),
                name=name,
                actor=self.actor,
                business_date=self.d,
                payload={"customer_id": row["customer_id"], **payload},
                trigger=trigger,
                from_state=row["state"] if trigger else None,
                to_state=to,
            )
        )


def _expire_approvals(day: _Day) -> None:
    loan_machine = machine("loan")
    for loan_id, version, customer_id, expires in day.uow.connection.execute(_EXPIRING, day.params):
        row = {"id": loan_id, "customer_id": customer_id, "state": "approved"}
        move = loan_machine.fire(
            "approved",
            "expire",
            {"as_of": day.d, "approval_expires_on": expires},
            label=f"loan {loan_id}",
        )
        _set_checked(
            day,
            [{"b_id": loan_id, "b_version": version, "state": move.dest, "version": version + 1}],
        )
        day.event(row, "LoanExpired", "expire", move.dest, expired_on=expires)
        day.counts["approvals_expired"] += 1


def _recognise_due(day: _Day) -> None:
    rows = day.uow.connection.execute(_FALLING_DUE, day.params).all()
    if not rows:
        return
    ids = sorted({r[1] for r in rows})
    open_ids: set[int] = set()
    for start in range(0, len(ids), _ID_BATCH):
        batch = {"ids": ids[start : start + _ID_BATCH], "d": day.d}
        open_ids.update(r[0] for r in day.uow.connection.execute(_LIVE_AND_OPEN, batch))
    rows = [r for r in rows if r[1] in open_ids]
    if not rows:
        return
    per_loan: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for _, loan_id, interest, fee in rows:
        per_loan[loan_id][0] += interest
        per_loan[loan_id][1] += fee
    lines: list[tuple[int, Line]] = []
    for loan_id, (interest, fee) in per_loan.items():
        if interest:
            lines += [
                (loan_id, Line(Account.INTEREST_RECEIVABLE, debit=interest)),
                (loan_id, Line(Account.INTEREST_INCOME, credit=interest)),
            ]
        if fee:
            lines += [
                (loan_id, Line(Account.FEE_RECEIVABLE, debit=fee)),
                (loan_id, Line(Account.FEE_INCOME, credit=fee)),
            ]
    journal.post_batch(
        day.uow, kind="charges_due", lines=lines, business_date=day.d, actor=day.actor
    )
    execute_many(day.uow, _MARK_RECOGNISED, [{"b_id": r[0]} for r in rows])
    execute_many(
        day.uow,
        _ADD_CHARGES,
        [{"b_id": k, "b_interest": v[0], "b_fee": v[1]} for k, v in per_loan.items()],
    )
    day.counts["instalments_fell_due"] += len(rows)


def _load_candidates(day: _Day) -> None:
    """Loans with past-due money, or that were delinquent before today."""
    conn = day.uow.connection
    items: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for item in conn.execute(_PAST_DUE, day.params):
        items[item[1]].append(tuple(item))
    rows = {r["id"]: dict(r) for r in conn.execute(_DELINQUENT_BEFORE, day.params).mappings()}
    missing = [loan_id for loan_id in items if loan_id not in rows]
    for start in range(0, len(missing), _ID_BATCH):
        batch = missing[start : start + _ID_BATCH]
        for r in conn.execute(_BY_IDS, {"ids": batch, "d": day.d}).mappings():
            rows[r["id"]] = dict(r)
    for loan_id, row in rows.items():
        day.candidates[loan_id] = Candidate(
            row=row, spec=day.spec(row["product_version_id"]), open_items=items.get(loan_id, [])
        )


def _delinquency(day: _Day) -> None:
    _load_candidates(day)
    loan_machine = machine("loan")
    changes: list[dict[str, Any]] = []
    write_offs: list[Candidate] = []
    for loan_id, c in day.candidates.items():
        rules = c.spec.delinquency
        c.days_late = days_late(
            min((i[2] for i in c.open_items), default=None),
            sum(i[3] + i[4] + i[5] + i[6] for i in c.open_items),
            day.d,
            rules.arrears_tolerance,
        )
        c.dpd = effective_dpd(c.days_late, rules.grace_days)
        state = c.row["state"]
        trigger = None
        if state == "active" and c.dpd > 0:
            trigger = "fall_overdue"
        elif state == "overdue" and c.dpd == 0:
            trigger = "cure"
        elif state == "overdue" and c.dpd > rules.write_off_dpd:
            trigger = "write_off"
        if trigger and (state, trigger) not in loan_machine.table:  # pragma: no cover
            # the sweep moves loans only along the machine's own table
            raise Conflict(loan_machine.refusal(f"loan {loan_id}", state, trigger))
        c.state = loan_machine.table[(state, trigger)] if trigger else state
        c.bucket = bucket_for(c.dpd, [(b.name, b.max_dpd) for b in rules.buckets])
        c.classification = classification_for(
            c.dpd, [(level.code, level.min_dpd) for level in rules.classification]
        )
        row = c.row
        if (c.state, c.dpd, c.bucket, c.classification) == (
            state,
            row["dpd"],
            row["bucket"],
            row["classification"],
        ):
            continue
        changes.append(
            {
                "b_id": loan_id,
                "b_version": row["version"],
                "version": row["version"] + 1,
                "state": c.state,
                "dpd": c.dpd,
                "bucket": c.bucket,
                "classification": c.classification,
            }
        )
        row["version"] += 1
        if trigger:
            name = {
                "fall_overdue": "LoanFellOverdue",
                "cure": "LoanCured",
                "write_off": "LoanWrittenOff",
            }[trigger]
            day.event(
                row,
                name,
                trigger,
                c.state,
                dpd=c.dpd,
                bucket=c.bucket,
                classification=c.classification,
            )
            day.counts[
                {"fall_overdue": "became_overdue", "cure": "cured", "write_off": "written_off"}[
                    trigger
                ]
            ] += 1
            if trigger == "write_off":
                write_offs.append(c)
        elif row["classification"] != c.classification:
            day.counts["reclassified"] += 1
    _set_checked(day, changes)
    _write_off(day, write_offs)


def _set_checked(day: _Day, changes: list[dict[str, Any]]) -> None:
    """Per-loan updates carrying each loan's version: a concurrent change is a conflict."""
    if not changes:
        return
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        by_keys[tuple(sorted(change))].append({**change, "updated_at": utc_now()})
    for batch in by_keys.values():
        if execute_many(day.uow, _SET_DELINQUENCY, batch) not in (len(batch), -1):
            raise Conflict("a loan changed while close of business ran; the chunk will be retried")


def _write_off(day: _Day, written: list[Candidate]) -> None:
    """Take written-off balances off the books: principal and receivables to expense."""
    lines: list[tuple[int, Line]] = []
    zeroed: list[dict[str, Any]] = []
    for c in written:
        row = c.row
        parts = {
            Account.LOAN_PRINCIPAL: row["principal_outstanding"],
            Account.INTEREST_RECEIVABLE: row["interest_receivable"],
            Account.FEE_RECEIVABLE: row["fee_receivable"],
            Account.PENALTY_RECEIVABLE: row["penalty_receivable"],
        }
        total = sum(parts.values())
        if not total:
            continue
        lines.append((row["id"], Line(Account.WRITE_OFF_EXPENSE, debit=total)))
        lines += [
            (row["id"], Line(account, credit=amount)) for account, amount in parts.items() if amount
        ]
        zeroed.append(
            {
                "b_id": row["id"],
                "b_version": row["version"],
                "version": row["version"] + 1,
                "principal_outstanding": 0,
                "interest_receivable": 0,
                "fee_receivable": 0,
                "penalty_receivable": 0,
                "written_off_amount": row["principal_outstanding"],
            }
        )
        row["version"] += 1
        day.counts["written_off_principal"] += row["principal_outstanding"]
    journal.post_batch(day.uow, kind="write_off", lines=lines, business_date=day.d, actor=day.actor)
    _set_checked(day, zeroed)


def _penalty_rate(spec: ProductSpec, policy: Policy) -> Decimal | None:
    if spec.penalty is None:
        return None
    return min(spec.penalty.annual_rate, policy.overdue_charges_cap)


def _penalty(day: _Day) -> None:
    lines: list[tuple[int, Line]] = []
    per_item: list[dict[str, int]] = []
    per_loan: list[dict[str, int]] = []
    for loan_id, c in day.candidates.items():
        rate = _penalty_rate(c.spec, day.policy)
        if c.state != "overdue" or not rate:
            continue
        penalty = c.spec.penalty
        assert penalty is not None
        basis = penalty.days_in_year
        days = year_length(day.d.year, basis)
        num, den = rate.as_integer_ratio()
        total = 0
        for item in c.open_items:
            base = item[3] + (item[4] if penalty.base == "overdue_principal_and_interest" else 0)
            amount = daily_penalty(base, num, den, days)
            if amount:
                per_item.append({"b_id": item[0], "b_amount": amount})
                total += amount
        if total:
            per_loan.append({"b_id": loan_id, "b_amount": total})
            lines += [
                (loan_id, Line(Account.PENALTY_RECEIVABLE, debit=total)),
                (loan_id, Line(Account.PENALTY_INCOME, credit=total)),
            ]
            day.counts["penalty_accrued"] += total
    if not per_loan:
        return
    journal.post_batch(day.uow, kind="penalty", lines=lines, business_date=day.d, actor=day.actor)
    execute_many(day.uow, _ADD_PENALTY, per_item)
    execute_many(day.uow, _ADD_PENALTY_RECEIVABLE, per_loan)


def _collection_notices(day: _Day) -> None:
    """One notice per loan and milestone, on the day the borrower is that many days late.

    Counted in days late, not in days past due after grace: the 1-day reminder is
    meant for the borrower still inside the grace period.
    """
    milestones = set(day.config.notice_days)
    due = [
        (loan_id, c)
        for loan_id, c in day.candidates.items()
        if c.days_late in milestones and c.state in LIVE
    ]
    if not due:
        return
    sent: set[tuple[int, int]] = set()
    ids = [loan_id for loan_id, _ in due]
    for start in range(0, len(ids), _ID_BATCH):
        rows = day.uow.connection.execute(_NOTICES_SENT, {"ids": ids[start : start + _ID_BATCH]})
        sent.update((r[0], r[1]) for r in rows)
    new = [(loan_id, c) for loan_id, c in due if (loan_id, c.days_late) not in sent]
    execute_many(
        day.uow,
        _INSERT_NOTICE,
        [
            {
                "loan_id": loan_id,
                "business_date": day.d,
                "dpd": c.days_late,
                "kind": "collection",
                "created_at": utc_now(),
            }
            for loan_id, c in new
        ],
    )
    for _, c in new:
        day.event(c.row, "CollectionNoticeIssued", None, None, days_late=c.days_late)
    day.counts["notices"] += len(new)


STEPS = {
    "expire_approvals": _expire_approvals,
    "recognise_due": _recognise_due,
    "delinquency": _delinquency,
    "penalty": _penalty,
    "collection_notices": _collection_notices,
}


def close_day(
    uow: UnitOfWork, lo: int, hi: int, d: date, actor: str, config: CobConfig, policy: Policy
) -> Counter[str]:
    """Close business date `d` for loans with ids in [lo, hi], inside one transaction."""
    if uow.dialect == "postgresql":
        uow.connection.execute(_LOCK, {"lo": lo, "hi": hi}).all()
    day = _Day(uow, lo, hi, d, actor, config, policy)
    for step in config.steps:
        STEPS[step](day)
    events.append_many(uow, day.events)
    scanned = uow.connection.execute(_WATERMARK, day.params).rowcount
    day.counts["loans_scanned"] += scanned + day.counts["written_off"]
    return day.counts


def days_to_close(ws: Workspace, lo: int, hi: int, first: date, last: date) -> list[date]:
    """The dates this id range still needs: from its oldest watermark (catch-up) to `last`."""
    oldest, _ = run_in_transaction(
        ws.engine, lambda uow: uow.connection.execute(_WATERMARKS, {"lo": lo, "hi": hi}).one()
    )
    start = min(first, oldest + timedelta(days=1)) if oldest else first
    return [start + timedelta(days=n) for n in range((last - start).days + 1)]


def close_range(
    ws: Workspace, lo: int, hi: int, first: date, last: date, actor: str, config: CobConfig
) -> Counter[str]:
    """Close every date from `first` (or the range's oldest watermark) to `last`, day by day."""
    totals: Counter[str] = Counter()
    for d in days_to_close(ws, lo, hi, first, last):
        totals.update(
            run_in_transaction(
                ws.engine, lambda uow, d=d: close_day(uow, lo, hi, d, actor, config, ws.policy)
            )
        )
    return totals


def id_ranges(ws: Workspace, chunk_size: int) -> list[tuple[int, int]]:
    """The book partitioned by loan id into ranges of `chunk_size` ids."""
    low, high = run_in_transaction(
        ws.engine,
        lambda uow: uow.connection.execute(
            select(func.min(loans.c.id), func.max(loans.c.id))
        ).one(),
    )
    if low is None:
        return []
    return [
        (start, min(start + chunk_size - 1, high)) for start in range(low, high + 1, chunk_size)
    ]


def check_dates(first: date, last: date, today: date) -> None:
    """Refuse a range that ends before it starts, or reaches past tomorrow."""
    if last < first:
        raise BadInput(f"the range ends ({last}) before it starts ({first})")
    if last > today + timedelta(days=1):
        raise BadInput(f"cannot close {last}: it is more than a day after today ({today})")


def portfolio_counts(ws: Workspace) -> dict[str, dict[str, int]]:
    """Live loans per bucket and per class, after the run."""

    def read(uow: UnitOfWork) -> dict[str, dict[str, int]]:
        conn = uow.connection
        buckets = conn.execute(
            select(loans.c.bucket, func.count())
            .where(loans.c.state.in_(LIVE))
            .group_by(loans.c.bucket)
        ).all()
        classes = conn.execute(
            select(loans.c.classification, func.count())
            .where(loans.c.state.in_(LIVE))
            .group_by(loans.c.classification)
        ).all()
        return {"buckets": dict(sorted(buckets)), "classes": dict(sorted(classes))}

    return run_in_transaction(ws.engine, read)
