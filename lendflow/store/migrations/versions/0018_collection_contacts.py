"""Collection contacts: each time a collector reached (or tried to reach) a borrower.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=16), nullable=False),
        sa.Column("contacted_at", sa.String(length=16), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("collection_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_contacts_loan_id"), ["loan_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("collection_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_contacts_loan_id"))
    op.drop_table("collection_contacts")
