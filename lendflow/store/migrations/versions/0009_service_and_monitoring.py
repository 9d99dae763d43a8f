"""Service and monitoring: customer service tickets.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("product_code", sa.String(length=64)),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id")),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id")),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("details_enc", sa.Text()),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("resolved_on", sa.Date()),
        sa.Column("resolved_by", sa.String(length=64)),
        sa.Column("resolution", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tickets_product_code", "tickets", ["product_code"])
    op.create_index("ix_tickets_opened_on", "tickets", ["opened_on"])


def downgrade() -> None:
    op.drop_index("ix_tickets_opened_on", table_name="tickets")
    op.drop_index("ix_tickets_product_code", table_name="tickets")
    op.drop_table("tickets")
