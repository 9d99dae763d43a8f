"""Whole-book reads for the sandbox's checks: every loan, event and row, never a sample.

The build-and-test stage holds the book its tests drove to invariants (schedules,
statuses and moves, balances against the journal) and searches it for personal
data in clear. These reads serve only those checks, on a sandbox's small book;
nothing on the lending path uses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from lendflow.store.tables import customers, events, instalments, journal_lines, loans, metadata
from lendflow.store.uow import UnitOfWork


def scheduled_principal(uow: UnitOfWork) -> list[tuple[int, int, int]]:
    """(loan id, principal lent, principal its instalments repay) of every loan with a
    schedule, by loan id."""
    scheduled = (
        select(instalments.c.loan_id, func.sum(instalments.c.principal).label("scheduled"))
        .group_by(instalments.c.loan_id)
        .subquery()
    )
    rows = uow.connection.execute(
        select(loans.c.id, loans.c.principal, scheduled.c.scheduled)
        .join(scheduled, scheduled.c.loan_id == loans.c.id)
        .order_by(loans.c.id)
    )
    return [(int(i), int(p), int(s)) for i, p, s in rows]


def loan_states(uow: UnitOfWork) -> list[tuple[int, str]]:
    """(id, status) of every loan."""
    return [(int(i), str(s)) for i, s in uow.connection.execute(select(loans.c.id, loans.c.state))]


def loan_moves(uow: UnitOfWork) -> list[tuple[str, str, str, str]]:
    """Every recorded move of a loan through its machine, in order: (loan id, trigger,
    from status or "" for none, to status)."""
    moves = uow.connection.execute(
        select(events.c.entity_id, events.c.trigger, events.c.from_state, events.c.to_state)
        .where(events.c.entity == "loan", events.c.trigger.is_not(None))
        .order_by(events.c.id)
    )
    return [(str(e), str(t), f or "", str(d)) for e, t, f, d in moves]


def loan_balances(uow: UnitOfWork, columns: Sequence[str]) -> list[dict[str, int]]:
    """Every loan's id and the stored balance `columns`, as a mapping each."""
    query = select(loans.c.id, *[loans.c[c] for c in columns])
    return [dict(r) for r in uow.connection.execute(query).mappings()]


def journal_totals(uow: UnitOfWork) -> tuple[int, int]:
    """All debits and all credits of the journal (0 and 0 when it is empty)."""
    debits, credits = uow.connection.execute(
        select(
            func.coalesce(func.sum(journal_lines.c.debit), 0),
            func.coalesce(func.sum(journal_lines.c.credit), 0),
        )
    ).one()
    return int(debits), int(credits)


def record_counts(uow: UnitOfWork) -> tuple[int, int, int]:
    """How many customers, events and journal lines there are: what a refused request
    must leave as it was."""
    conn = uow.connection
    return (
        int(conn.execute(select(func.count()).select_from(customers)).scalar_one()),
        int(conn.execute(select(func.count()).select_from(events)).scalar_one()),
        int(conn.execute(select(func.count()).select_from(journal_lines)).scalar_one()),
    )


def a_sealed_name(uow: UnitOfWork) -> Any:
    """One customer's name as stored, sealed (an error when there is no customer)."""
    return uow.connection.execute(select(customers.c.name_enc).limit(1)).scalar_one()


def sealed_personal_data(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every customer's name, national ID and phone as stored, sealed (with the look-up
    hash they are bound to)."""
    rows = uow.connection.execute(
        select(
            customers.c.name_enc,
            customers.c.national_id_enc,
            customers.c.phone_enc,
            customers.c.id_hash,
        )
    ).mappings()
    return [dict(r) for r in rows]


@dataclass(frozen=True)
class TableDump:
    """Every row of every table as text: what a copied database would show."""

    tables: int
    rows: int
    text: bytes


def table_dump(uow: UnitOfWork) -> TableDump:
    """Each row of each table (in dependency order) as the repr of its values, a line each."""
    count, parts = 0, []
    for table in metadata.sorted_tables:
        for row in uow.connection.execute(select(table)):
            count += 1
            parts.append(repr(tuple(row)))
    return TableDump(len(metadata.sorted_tables), count, "\n".join(parts).encode("utf-8"))
