"""What a journal entry holds, as the tests read it back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from lendflow.store.tables import journal_lines


def entry_lines(connection: Connection, entry_id: int) -> list[tuple[Any, ...]]:
    """The entry's lines in the order they were posted: (loan id, account, debit, credit)."""
    rows = connection.execute(
        select(
            journal_lines.c.loan_id,
            journal_lines.c.account,
            journal_lines.c.debit,
            journal_lines.c.credit,
        )
        .where(journal_lines.c.entry_id == entry_id)
        .order_by(journal_lines.c.id)
    ).all()
    return [tuple(row) for row in rows]
