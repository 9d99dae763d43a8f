"""Classification on evidence: the date a non-performing loan's arrears were paid, while
it is held at its class waiting for the evidence an upgrade needs.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("held_since", sa.Date(), nullable=True))
    op.create_index(
        "ix_loans_held",
        "loans",
        ["id"],
        sqlite_where=sa.text("held_since IS NOT NULL"),
        postgresql_where=sa.text("held_since IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_loans_held", table_name="loans")
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("held_since")
