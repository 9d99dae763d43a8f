"""Close of business's marks: how far each id range is closed for the loans that follow it.

Every night every live loan's watermark moves a day, a day's principal is added to its
fen-days and its accrual moves to what its running period has earned. Writing that
into each row was most of a night's time (SQLite rewrites a whole row to change one
column; PostgreSQL writes a new version of it). A loan with no news follows its range's
mark instead: `loans.follows_from` is the day number its stored figures are as of, the
mark (`cob_marks`, one row per range as close of business partitions the book) says how
far its range is closed, and its figures through the mark derive from the row
(`domain.accrual.followed`).

So every read of a loan that shows or uses those figures goes through `current` (or
`CLOSED_THROUGH` in SQL), and a write of a following loan first makes its figures its
own (`owned`), as any change (a repayment, a new period, non-accrual) would break the
derivation. How a chunk keeps its range's mark is `store.cob_chunk_marks`: the loan
actions that read through here need none of close of business's statements.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    bindparam,
    case,
    select,
    type_coerce,
)

from lendflow.domain.accrual import FOLLOWED, through_mark
from lendflow.store import driver
from lendflow.store.tables import cob_marks, loans
from lendflow.store.uow import UnitOfWork

_FOLLOWS = loans.c.follows_from.is_not(None)
_ALL = select(cob_marks.c.lo, cob_marks.c.hi, cob_marks.c.through).order_by(cob_marks.c.lo)
_OF_LOAN = select(cob_marks.c.through).where(
    cob_marks.c.lo <= bindparam("loan_id"), cob_marks.c.hi >= bindparam("loan_id")
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


class Marks:
    """The book's marks in id order, to make many loans' figures current at once."""

    def __init__(self, rows: Sequence[tuple[int, int, date]]) -> None:
        self.rows = list(rows)
        self._starts = [lo for lo, _, _ in self.rows]

    def through(self, loan_id: int) -> date | None:
        at = bisect_right(self._starts, loan_id) - 1
        return self.rows[at][2] if at >= 0 and self.rows[at][1] >= loan_id else None


def book_marks(uow: UnitOfWork) -> Marks:
    return Marks([tuple(row) for row in uow.connection.execute(_ALL).all()])  # type: ignore[misc]


def current(uow: UnitOfWork, loan: dict[str, Any]) -> dict[str, Any]:
    """The loan's row with the figures it has through its range's mark, if it follows one.

    Read in a statement of its own after the row: on PostgreSQL a row read FOR UPDATE
    that waited for a chunk is the row as the chunk left it, and so is the mark."""
    if loan.get("follows_from") is None:
        return loan
    return through_mark(loan, driver.scalar(uow, _OF_LOAN, {"loan_id": loan["id"]}))


def current_rows(uow: UnitOfWork, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`current` for many rows, the marks read once (only if one of them follows)."""
    if not any(row.get("follows_from") is not None for row in rows):
        return rows
    marks = book_marks(uow)
    return [
        row if row.get("follows_from") is None else through_mark(row, marks.through(row["id"]))
        for row in rows
    ]


def owned(loan: Mapping[str, Any]) -> dict[str, Any]:
    """What a write of `loan` (read through `current`) adds so its figures are its own."""
    if loan.get("follows_from") is None:
        return {}
    return {**{name: loan[name] for name in FOLLOWED}, "follows_from": None}
