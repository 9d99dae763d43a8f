"""The borrower-level class rule: the class a loan's own evidence gives while the rule
gives it a worse one, and the indexes close of business finds the borrowers through.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

CLASSED = sa.text("classification <> 'normal'")
LIFTED = sa.text("own_classification IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("own_classification", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_loans_classed",
        "loans",
        ["customer_id"],
        sqlite_where=CLASSED,
        postgresql_where=CLASSED,
    )
    op.create_index(
        "ix_loans_lifted", "loans", ["id"], sqlite_where=LIFTED, postgresql_where=LIFTED
    )


def downgrade() -> None:
    op.drop_index("ix_loans_lifted", table_name="loans")
    op.drop_index("ix_loans_classed", table_name="loans")
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("own_classification")
