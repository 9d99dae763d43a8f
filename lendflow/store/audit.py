"""The reads of `audit verify` that the journal and event modules do not already offer:
counts and totals over the whole book, and every loan's stored balances."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select

from lendflow.store.tables import events, instalments, journal_lines, loans
from lendflow.store.uow import UnitOfWork


def journal_entry_count(uow: UnitOfWork) -> int:
    """How many journal entries have lines."""
    return int(
        uow.connection.execute(
            select(func.count(func.distinct(journal_lines.c.entry_id)))
        ).scalar_one()
    )


def journal_totals(uow: UnitOfWork) -> tuple[Any, Any]:
    """(total debits, total credits) over every journal line, as the database sums them."""
    debit, credit = uow.connection.execute(
        select(
            func.coalesce(func.sum(journal_lines.c.debit), 0),
            func.coalesce(func.sum(journal_lines.c.credit), 0),
        )
    ).one()
    return debit, credit


def principal_paid(uow: UnitOfWork) -> dict[int, Any]:
    """Principal paid on each loan's instalments, by loan id (loans with instalments only)."""
    return dict(
        uow.connection.execute(
            select(instalments.c.loan_id, func.sum(instalments.c.principal_paid)).group_by(
                instalments.c.loan_id
            )
        ).all()
    )


def loan_balances(uow: UnitOfWork, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Every loan's id, principal, amount written off and the balance `columns`, one at
    a time (the book may be large; read inside the audit's transaction)."""
    rows = uow.connection.execute(
        select(
            loans.c.id,
            loans.c.principal,
            loans.c.written_off_amount,
            *[loans.c[c] for c in columns],
        )
    ).mappings()
    for row in rows:
        yield dict(row)


def event_count(uow: UnitOfWork) -> int:
    return int(uow.connection.execute(select(func.count()).select_from(events)).scalar_one())
