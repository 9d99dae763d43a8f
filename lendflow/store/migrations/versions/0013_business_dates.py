"""Business dates: journal reversals and repayment reversals asked for and approved.

A backdated repayment or a reversed one reprocesses a loan: what was booked for it
is reversed by new entries that name the entry they reverse (`reversal_of`), never
deleted. A repayment reversal is asked for by one person and approved by another.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal_entries") as batch:
        batch.add_column(sa.Column("reversal_of", sa.Integer(), nullable=True))
    op.create_index("ix_journal_entries_reversal_of", "journal_entries", ["reversal_of"])
    op.create_table(
        "repayment_reversals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=64)),
        sa.Column("decided_on", sa.Date()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_repayment_reversals_loan_id", "repayment_reversals", ["loan_id"])


def downgrade() -> None:
    op.drop_index("ix_repayment_reversals_loan_id", "repayment_reversals")
    op.drop_table("repayment_reversals")
    op.drop_index("ix_journal_entries_reversal_of", "journal_entries")
    with op.batch_alter_table("journal_entries") as batch:
        batch.drop_column("reversal_of")
