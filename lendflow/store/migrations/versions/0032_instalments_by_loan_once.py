"""Instalments: one index by loan, not two.

`uq_instalment_n` on (loan id, number) already serves every read of a loan's
instalments, in order, and every range of loan ids; `ix_instalments_loan_id` on the loan
id alone repeated it. Each instalment a disbursement writes, and on PostgreSQL each
instalment close of business recognises (a new row version, put in every index), also
went into the second copy, which took some 80 MB on SQLite on a million-loan book (6% of
the file) and 86 MB on PostgreSQL. Neither a night's close of business nor the loan
actions ran measurably faster without it: the gain is the space, and a write less.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_instalments_loan_id", table_name="instalments")


def downgrade() -> None:
    op.create_index("ix_instalments_loan_id", "instalments", ["loan_id"])
