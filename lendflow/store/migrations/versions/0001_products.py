"""Products and their versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "product_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_code", sa.String(64), sa.ForeignKey("products.code"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("spec_yaml", sa.Text, nullable=False),
        sa.Column("spec_sha256", sa.String(64), nullable=False),
        sa.Column("min_amount", sa.BigInteger, nullable=False),
        sa.Column("max_amount", sa.BigInteger, nullable=False),
        sa.Column("annual_rate", sa.String(32), nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("product_code", "version", name="uq_product_version"),
    )
    op.create_index("ix_product_versions_product_code", "product_versions", ["product_code"])
    op.create_index("ix_product_versions_state", "product_versions", ["state"])


def downgrade() -> None:
    op.drop_table("product_versions")
    op.drop_table("products")
