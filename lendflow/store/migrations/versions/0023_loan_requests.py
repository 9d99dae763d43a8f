"""Loan actions asked by one person and approved by another (waivers, acceleration,
restructuring), refunds of credit balances paid out through the gateway, and the
flags a loan carries once accelerated or restructured.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loan_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("loan_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_requests_loan_id"), ["loan_id"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gateway_ref", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_loan_id"), ["loan_id"], unique=False)
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accelerated_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("restructured_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("restructure_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_index(
        "ix_loans_restructured",
        "loans",
        ["id"],
        sqlite_where=sa.text("restructured_on IS NOT NULL"),
        postgresql_where=sa.text("restructured_on IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_loans_restructured", table_name="loans")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("restructure_count")
        batch_op.drop_column("restructured_on")
        batch_op.drop_column("accelerated_on")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_loan_id"))
    op.drop_table("refunds")
    with op.batch_alter_table("loan_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_requests_loan_id"))
    op.drop_table("loan_requests")
