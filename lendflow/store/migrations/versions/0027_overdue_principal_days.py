"""The all-in charges cap on its stricter base: each loan's fen-days of principal past
due, the day's added at each close of business that finds any.

Loans already on the books start from nothing: the cap on this base then allows them
only what lateness earns from now on, never more than the true figure (a lender who
switches the policy's base mid-book holds penalty back until it is earned again).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(
            sa.Column("overdue_principal_days", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("overdue_principal_days")
