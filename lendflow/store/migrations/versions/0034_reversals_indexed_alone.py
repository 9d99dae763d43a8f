"""Journal entries: only reversals in the index of the entry each reverses.

Nearly every entry reverses nothing, yet each put its empty `reversal_of` into
`ix_journal_entries_reversal_of`, so every posting wrote a page of that index: one of
the twenty pages a repayment writes to SQLite's log. Every read of the column names a
reversal (`reversal_of` equal to an entry, or in a list of them, or not empty), which a
partial index over the reversals alone serves on both databases.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

INDEX = "ix_journal_entries_reversal_of"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="journal_entries")
    op.create_index(
        INDEX,
        "journal_entries",
        ["reversal_of"],
        sqlite_where=sa.text("reversal_of IS NOT NULL"),
        postgresql_where=sa.text("reversal_of IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="journal_entries")
    op.create_index(INDEX, "journal_entries", ["reversal_of"])
