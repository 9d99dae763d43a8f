"""How a close-of-business chunk keeps its range's mark (`store.cob_marks` says what one is).

Before its steps a chunk readies the mark (`prepare`): a mark that is not exactly its
range's (the chunk size changed, marks were turned off, or a range too small to keep
one) first gives the loans following it here their own figures (`release`). After them
the mark moves to the day closed (`advance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import BigInteger, bindparam, delete, func, insert, select, update

from lendflow.store.cob_queries import followed_through
from lendflow.store.tables import cob_marks, loans
from lendflow.store.uow import UnitOfWork

_FOLLOWS = loans.c.follows_from.is_not(None)
_OVERLAPPING = select(cob_marks.c.lo, cob_marks.c.hi, cob_marks.c.through).where(
    cob_marks.c.lo <= bindparam("hi"), cob_marks.c.hi >= bindparam("lo")
)
_FOLLOWING_IN = select(func.count()).where(
    loans.c.id.between(bindparam("lo"), bindparam("hi")), _FOLLOWS
)
_ANY_FOLLOWING = (
    select(loans.c.id)
    .where(loans.c.id.between(bindparam("lo"), bindparam("hi")), _FOLLOWS)
    .limit(1)
)
_MOVE = (
    update(cob_marks)
    .where(cob_marks.c.lo == bindparam("b_lo"), cob_marks.c.hi == bindparam("b_hi"))
    .values(through=bindparam("through"))
)
_RESIZE = update(cob_marks).where(cob_marks.c.lo == bindparam("b_lo")).values(hi=bindparam("hi"))
_ADD = insert(cob_marks)
_DROP = delete(cob_marks).where(cob_marks.c.lo == bindparam("lo"))


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
    """Loans follow it and are closed through the day before: they close today."""
    converts: bool
    """Loans closed through the day before may follow the mark from today."""


NO_MARK = ChunkMark(open=False, converts=False)


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
    # whether any loan follows, not how many: the first loans of a range mostly do, and
    # counting them all read the whole range (the accrual's pass counts them)
    following = uow.connection.execute(_ANY_FOLLOWING, params).first() is not None
    prev = date.fromordinal(d.toordinal() - 1)
    return ChunkMark(following and own == prev, converts=not following or own == prev)


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
