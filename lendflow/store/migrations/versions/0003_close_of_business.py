"""Close of business: notices, runs, write-off amounts, indexes on open instalments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cob_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("loan_id", "kind", "dpd", name="uq_notice_milestone"),
    )
    op.create_index("ix_notices_loan_id", "notices", ["loan_id"])
    op.create_index(
        "ix_instalments_open",
        "instalments",
        ["due_date", "loan_id"],
        sqlite_where=sa.text("paid_on IS NULL"),
        postgresql_where=sa.text("paid_on IS NULL"),
    )
    op.create_index(
        "ix_instalments_unrecognised",
        "instalments",
        ["due_date", "loan_id"],
        sqlite_where=sa.text("recognised = 0"),
        postgresql_where=sa.text("recognised = false"),
    )
    with op.batch_alter_table("loans") as batch_op:
        batch_op.add_column(
            sa.Column("written_off_amount", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("payouts") as batch_op:
        batch_op.add_column(sa.Column("requested_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payouts") as batch_op:
        batch_op.drop_column("requested_on")
    with op.batch_alter_table("loans") as batch_op:
        batch_op.drop_column("written_off_amount")
    op.drop_index("ix_instalments_unrecognised", table_name="instalments")
    op.drop_index("ix_instalments_open", table_name="instalments")
    op.drop_index("ix_notices_loan_id", table_name="notices")
    op.drop_table("notices")
    op.drop_table("cob_runs")
