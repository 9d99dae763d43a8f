"""How close of business and loan actions keep out of each other's way on PostgreSQL.

A chunk of close of business reads its loans, decides in Python and writes them back,
so no loan action may change one of them in between. It used to lock every live loan
of its range (`SELECT … FOR UPDATE`); on PostgreSQL a row lock is written into the row
itself, so that dirtied every page of the range's loans each night, though the marks
spare most loans any other write, and it was the night's single costliest statement.

The book is instead cut by loan id into granules of `GRANULE` ids, each with a
transaction-level advisory lock (nothing written, held until commit; keyed by the
workspace's schema as well, `SPACE`):

- a chunk takes the lock of each granule wholly inside its range exclusively, in
  ascending order, and for the ids at its edges, which share a granule with the next
  chunk, the granule's lock shared and the live loans' rows as before;
- a loan action takes its loan's granule lock shared before it locks the loan's row
  (`store.loans.get(…, for_update=True)`, the way every loan action reads the loan it
  changes).

An action on a loan a chunk holds therefore waits for the chunk, by its granule or by
its row, and a chunk waits for actions under way; actions never wait for one another
by granule, and neither do chunks side by side (their shared edge granule is shared).
A range of fewer than `GRANULE` ids (a loan closed on its own) is all edge: row locks.
SQLite has one writer at a time, so none of this is needed there.
"""

from __future__ import annotations

from sqlalchemy import Integer, TextualSelect, bindparam, column, func, select, text

from lendflow.store.tables import loans
from lendflow.store.uow import UnitOfWork

GRANULE = 1_000
"""Loan ids per advisory lock. A chunk of 50,000 takes 50; the largest chunk allowed
(1,000,000) takes 1,000, well inside PostgreSQL's shared lock table (64 locks for each
connection the server allows: 6,400 with its default 100)."""
SPACE = "lendflow range "
"""What the first key of lendflow's advisory locks hashes, with the workspace's schema:
advisory locks belong to the whole database, and two workspaces in schemas of one
database (the tests' way, a sandbox's) must not wait for each other's chunks. The
second key is the granule."""
_KEY = f"hashtext('{SPACE}' || current_schema())"


def _each_granule(lock: str) -> TextualSelect:
    """`lock` (an advisory lock function) taken on granules :first to :last, in order."""
    return text(
        f"SELECT count({lock}({_KEY}, g)) AS locked"
        " FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g"
    ).columns(column("locked", Integer))


SHARED = _each_granule("pg_advisory_xact_lock_shared")
"""Granules locked shared: a loan action's one (`share_loan`), a chunk's edges."""
_EXCLUSIVE = _each_granule("pg_advisory_xact_lock")
# The live loans of an edge, locked row by row (counted on the server: cheaper than
# fetching their ids).
_LOCK_ROWS = select(func.count()).select_from(
    select(loans.c.id)
    .where(
        loans.c.id.between(bindparam("lo"), bindparam("hi")),
        loans.c.state.in_(bindparam("live", expanding=True)),
    )
    .with_for_update()
    .subquery()
)


def granule(loan_id: int) -> int:
    """The granule of a loan id: ids 1 to GRANULE are the first (0)."""
    return (loan_id - 1) // GRANULE


def whole_granules(lo: int, hi: int) -> range:
    """The granules wholly inside ids [lo, hi], in ascending order (maybe none)."""
    first = granule(lo) if (lo - 1) % GRANULE == 0 else granule(lo) + 1
    last = granule(hi) if hi % GRANULE == 0 else granule(hi) - 1
    return range(first, last + 1)


def parts(lo: int, hi: int) -> list[tuple[int, int, bool]]:
    """Ids [lo, hi] cut into (first id, last id, whole granules?) in ascending order: the
    edge below its whole granules, the whole granules, the edge above; all of it one edge
    when it holds no whole granule."""
    whole = whole_granules(lo, hi)
    if not whole:
        return [(lo, hi, False)]
    start, end = whole[0] * GRANULE + 1, (whole[-1] + 1) * GRANULE
    found = [(lo, start - 1, False), (start, end, True), (end + 1, hi, False)]
    return [(a, b, is_whole) for a, b, is_whole in found if a <= b]


def share_loan(loan_id: int) -> dict[str, int]:
    """The parameters of `SHARED` for a loan's granule: sent just before a loan action
    locks the loan's row, so the action waits for any chunk closing that granule and keeps
    the next one out until its transaction ends (`store.loans.get`)."""
    return {"first": granule(loan_id), "last": granule(loan_id)}


def take_range(uow: UnitOfWork, lo: int, hi: int, live: tuple[str, ...]) -> None:
    """Lock ids [lo, hi] for a chunk of close of business, in ascending order: its whole
    granules exclusively, its edges' granules shared and their live loans' rows (`live`:
    the states a loan is live in)."""
    if uow.dialect != "postgresql":
        return
    for a, b, is_whole in parts(lo, hi):
        bounds = {"first": granule(a), "last": granule(b)}
        uow.connection.execute(_EXCLUSIVE if is_whole else SHARED, bounds).scalar_one()
        if not is_whole:
            uow.connection.execute(_LOCK_ROWS, {"lo": a, "hi": b, "live": list(live)}).scalar_one()
