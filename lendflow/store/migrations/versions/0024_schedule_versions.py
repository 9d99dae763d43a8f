"""Schedule versions: a loan's repayment schedule kept whole each time a recalculation
(a partial prepayment under `reduce_instalment` or `reduce_term`) replaces it.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("loan_id", "version", name="uq_schedule_version"),
    )
    with op.batch_alter_table("schedule_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_versions_loan_id"), ["loan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("schedule_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_versions_loan_id"))
    op.drop_table("schedule_versions")
