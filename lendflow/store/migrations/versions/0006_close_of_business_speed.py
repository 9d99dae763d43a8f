"""Close of business: an index that finds arrears per loan id range.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_instalments_arrears",
        "instalments",
        ["loan_id", "due_date"],
        sqlite_where=sa.text("paid_on IS NULL AND recognised = 1"),
        postgresql_where=sa.text("paid_on IS NULL AND recognised = true"),
    )


def downgrade() -> None:
    op.drop_index("ix_instalments_arrears", table_name="instalments")
