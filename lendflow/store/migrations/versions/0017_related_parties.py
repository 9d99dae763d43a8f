"""Related parties: groups of people whose loans count together against the lender's
concentration limit (a borrower with their related parties, 15% of net assets).

Kept by the keyed hash of each person's national ID, with the ID sealed beside it so a
key rotation can move the hash, as the blocklist does.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "related_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("national_id_enc", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_code", "id_hash"),
    )
    with op.batch_alter_table("related_parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_related_parties_id_hash"), ["id_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("related_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_related_parties_id_hash"))
    op.drop_table("related_parties")
