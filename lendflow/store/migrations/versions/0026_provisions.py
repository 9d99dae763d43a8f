"""Loan-loss provisions: each loan's provision at every month end, and the index that
reads a loan's allowance from its journal lines.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

ALLOWANCE = sa.text("account = 'loan_loss_allowance'")


def upgrade() -> None:
    op.create_table(
        "loan_provisions",
        sa.Column("month_end", sa.Date(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.String(length=16), nullable=False),
        sa.Column("specific", sa.BigInteger(), nullable=False),
        sa.Column("general", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("month_end", "loan_id"),
    )
    op.create_index(
        "ix_journal_lines_allowance",
        "journal_lines",
        ["loan_id", "debit", "credit"],
        sqlite_where=ALLOWANCE,
        postgresql_where=ALLOWANCE,
    )


def downgrade() -> None:
    op.drop_index("ix_journal_lines_allowance", table_name="journal_lines")
    op.drop_table("loan_provisions")
