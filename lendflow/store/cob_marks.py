"""Close of business's marks: how far each id range is closed for the loans that follow it.

Every night every live loan's watermark moves a day, a day's principal is added to its
fen-days and its accrual moves to what its running period has earned. Writing that
into each row was most of a night's time (SQLite rewrites a whole row to change one
column; PostgreSQL writes a new version of it). A loan with no news follows its range's
mark instead: `loans.follows_from` is the day number its stored figures are as of, the
mark (`cob_marks`, one row per range as close of business partitions the book) says how
far its range is closed, and its figures through the mark derive from the row
(`domain.accrual.followed`).

So every read of a loan that shows or uses those figures goes through `current`; a
write of a following loan first makes its figures its own (`owned`), as any change
(a repayment, a new period, non-accrual) would break the derivation; and a range whose
mark no longer matches the partition (the chunk size changed) gives its loans their
own figures back (`release`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from lendflow.domain.accrual import FOLLOWED, followed
from lendflow.domain.errors import Conflict
from lendflow.store import driver
from lendflow.store.cob_queries import followed_through
from lendflow.store.tables import cob_marks, loans
from lendflow.store.uow import UnitOfWork

_FOLLOWS = loans.c.follows_from.is_not(None)
_ALL = select(cob_marks.c.lo, cob_marks.c.hi, cob_marks.c.through).order_by(cob_marks.c.lo)
_OF_LOAN = select(cob_marks.c.through).where(
    cob_marks.c.lo <= bindparam("loan_id"), cob_marks.c.hi >= bindparam("loan_id")
)
_OVERLAPPING = select(cob_marks.c.lo, cob_marks.c.hi, cob_marks.c.through).where(
    cob_marks.c.lo <= bindparam("hi"), cob_marks.c.hi >= bindparam("lo")
)
_FOLLOWING_IN = select(func.count()).where(
    loans.c.id.between(bindparam("lo"), bindparam("hi")), _FOLLOWS
)
# The day a loan is closed through, in SQL: its range's mark if it follows one.
CLOSED_THROUGH = type_coerce(
    case(
        (
            _FOLLOWS,
            select(cob_marks.c.through)
            .where(cob_marks.c.lo <= loans.c.id, cob_marks.c.hi >= loans.c.id)
            .scalar_subquery(),
        ),
        else_=loans.c.cob_through,
    ),
    Date(),
)
_MOVE = (
    update(cob_marks)
    .where(cob_marks.c.lo == bindparam("b_lo"), cob_marks.c.hi == bindparam("b_hi"))
    .values(through=bindparam("through"))
)
_RESIZE = update(cob_marks).where(cob_marks.c.lo == bindparam("b_lo")).values(hi=bindparam("hi"))
_ADD = insert(cob_marks)
_DROP = delete(cob_marks).where(cob_marks.c.lo == bindparam("lo"))


class Marks:
    """The book's marks in id order, to make many loans' figures current at once."""

    def __init__(self, rows: Sequence[tuple[int, int, date]]) -> None:
        self.rows = list(rows)
        self._starts = [lo for lo, _, _ in self.rows]

    def through(self, loan_id: int) -> date:
        at = bisect_right(self._starts, loan_id) - 1
        if at >= 0 and self.rows[at][1] >= loan_id:
            return self.rows[at][2]
        raise Conflict(f"loan {loan_id} follows a close-of-business mark the book does not hold")


def book_marks(uow: UnitOfWork) -> Marks:
    return Marks([tuple(row) for row in uow.connection.execute(_ALL).all()])  # type: ignore[misc]


def current(uow: UnitOfWork, loan: dict[str, Any]) -> dict[str, Any]:
    """The loan's row with the figures it has through its range's mark, if it follows one.

    Read in a statement of its own after the row: on PostgreSQL a row read FOR UPDATE
    that waited for a chunk is the row as the chunk left it, and so is the mark."""
    if loan.get("follows_from") is None:
        return loan
    through = driver.scalar(uow, _OF_LOAN, {"loan_id": loan["id"]})
    if through is None:
        raise Conflict(f"loan {loan['id']} follows a close-of-business mark the book does not hold")
    return {**loan, **followed(loan, through)}


def current_rows(uow: UnitOfWork, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`current` for many rows, the marks read once (only if one of them follows)."""
    if not any(row.get("follows_from") is not None for row in rows):
        return rows
    marks = book_marks(uow)
    return [
        row
        if row.get("follows_from") is None
        else {**row, **followed(row, marks.through(row["id"]))}
        for row in rows
    ]


def owned(loan: Mapping[str, Any]) -> dict[str, Any]:
    """What a write of `loan` (read through `current`) adds so its figures are its own."""
    if loan.get("follows_from") is None:
        return {}
    return {**{name: loan[name] for name in FOLLOWED}, "follows_from": None}


# The figures of the following loans of an id range made their own at its mark's date.
_RELEASE = (
    update(loans)
    .where(loans.c.id.between(bindparam("lo"), bindparam("hi")), _FOLLOWS)
    .values(
        cob_through=bindparam("through"),
        follows_from=None,
        **followed_through(bindparam("day", type_=BigInteger())),
    )
)


def release(uow: UnitOfWork, lo: int, hi: int, through: date) -> int:
    """Give the loans of ids `lo`…`hi` that follow a mark at `through` their own figures."""
    params = {"lo": lo, "hi": hi, "through": through, "day": through.toordinal()}
    return int(uow.connection.execute(_RELEASE, params).rowcount)


@dataclass(frozen=True)
class ChunkMark:
    """What a chunk's day knows of its range's mark before its steps run."""

    open: bool
    """Its following loans are closed through the day before: they close today."""
    following: int
    """How many of the range's loans follow its mark (every one of them is live)."""
    converts: bool
    """Loans closed through the day before may follow the mark from today."""


NO_MARK = ChunkMark(open=False, following=0, converts=False)


def prepare(uow: UnitOfWork, lo: int, hi: int, d: date, *, uses: bool) -> ChunkMark:
    """Ready the range's mark for closing `d` (after the chunk holds its loans).

    With `uses` the range keeps its own mark: the one starting at `lo`, grown with the
    book's last range (its new ids hold no following loan). Any other mark it overlaps
    (the partition changed, or marks were turned off, or a range too small to keep one)
    gives the following loans it covers here their own figures, and keeps only its part
    outside the range when this range takes a mark of its own."""
    own: date | None = None
    params = {"lo": lo, "hi": hi}
    query = _OVERLAPPING.with_for_update() if uow.dialect == "postgresql" else _OVERLAPPING
    for m_lo, m_hi, through in uow.connection.execute(query, params).all():
        if uses and m_lo == lo and m_hi <= hi:
            own = through
            if m_hi < hi:
                uow.connection.execute(_RESIZE, {"b_lo": lo, "hi": hi})
            continue
        release(uow, max(lo, m_lo), min(hi, m_hi), through)
        inside = lo <= m_lo and m_hi <= hi
        if inside or uses:
            uow.connection.execute(_DROP, {"lo": m_lo})
        if uses and not inside:
            pieces = [(m_lo, lo - 1), (hi + 1, m_hi)]
            for piece_lo, piece_hi in pieces:
                if piece_lo <= piece_hi:
                    values = {"lo": piece_lo, "hi": piece_hi, "through": through}
                    uow.connection.execute(_ADD, values)
    if not uses:
        return NO_MARK
    following = int(uow.connection.execute(_FOLLOWING_IN, params).scalar_one())
    prev = date.fromordinal(d.toordinal() - 1)
    is_open = following > 0 and own == prev
    return ChunkMark(is_open, following, converts=following == 0 or own == prev)


def advance(uow: UnitOfWork, lo: int, hi: int, d: date) -> None:
    """The range's mark is now `d`: its following loans are closed through it (`prepare`
    left it exactly `lo`…`hi`, or none)."""
    moved = uow.connection.execute(_MOVE, {"b_lo": lo, "b_hi": hi, "through": d}).rowcount
    if not moved:
        uow.connection.execute(_ADD, {"lo": lo, "hi": hi, "through": d})


def following_in(uow: UnitOfWork, lo: int, hi: int) -> int:
    return int(uow.connection.execute(_FOLLOWING_IN, {"lo": lo, "hi": hi}).scalar_one())


def oldest_mark(uow: UnitOfWork, lo: int, hi: int) -> date | None:
    """The earliest mark that loans of ids `lo`…`hi` follow (None: none follows one)."""
    if not following_in(uow, lo, hi):
        return None
    found = [
        through for _, _, through in uow.connection.execute(_OVERLAPPING, {"lo": lo, "hi": hi})
    ]
    return min(found) if found else None
