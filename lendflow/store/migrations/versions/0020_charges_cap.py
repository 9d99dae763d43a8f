"""The all-in charges cap: each loan's fen-days of principal outstanding, one day's
balance added at each close of business (the base the cap accrues on).

Loans already on the books start from their balance times the days they have been
closed since payout: exact for a loan that has repaid no principal, and never more
than the true figure otherwise (principal only goes down), so the cap stays strict.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(
            sa.Column("principal_days", sa.BigInteger(), nullable=False, server_default="0")
        )
    bind = op.get_bind()
    closed_days = (
        "(cob_through - disbursed_on + 1)"
        if bind.dialect.name == "postgresql"
        else "(julianday(cob_through) - julianday(disbursed_on) + 1)"
    )
    op.execute(
        "UPDATE loans SET principal_days = principal_outstanding * "
        f"CAST({closed_days} AS BIGINT) "
        "WHERE disbursed_on IS NOT NULL AND cob_through IS NOT NULL AND cob_through >= disbursed_on"
    )


def downgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("principal_days")
