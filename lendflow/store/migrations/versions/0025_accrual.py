"""Accrual accounting: each loan's running period and what close of business accrued of
it, non-accrual and the interest and penalty held in suspense; each instalment's share
of the upfront fee.

Loans already live keep the figures they were booked with up to now: their running
period is filled in from their instalments and their accrual starts from their next
close of business (nothing is accrued for days already closed; the first night accrues
the running period's interest earned so far in one go).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-20
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

MONEY = ("accrual_interest", "accrual_waived", "interest_accrued", "accrual_income",
         "interest_suspended", "penalty_suspended")  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("accrual_start", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("accrual_days", sa.Integer(), nullable=True))
        for name in MONEY:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("non_accrual_since", sa.Date(), nullable=True))
    with op.batch_alter_table("instalments") as batch:
        batch.add_column(
            sa.Column("upfront_share", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_index(
        "ix_loans_non_accrual",
        "loans",
        ["id"],
        sqlite_where=sa.text("non_accrual_since IS NOT NULL"),
        postgresql_where=sa.text("non_accrual_since IS NOT NULL"),
    )
    _fill_running_periods()


def _fill_running_periods() -> None:
    """Each live loan's running period from its instalments (few loans in an old book)."""
    bind = op.get_bind()
    live = bind.execute(
        sa.text(
            "SELECT id, disbursed_on, restructured_on FROM loans"
            " WHERE state IN ('active', 'overdue')"
        )
    ).all()
    for loan_id, disbursed, restructured in live:
        started = _as_date(restructured or disbursed)
        rows = bind.execute(
            sa.text(
                "SELECT n, due_date, interest, interest_waived, recognised FROM instalments"
                " WHERE loan_id = :id AND n > 0 ORDER BY n"
            ),
            {"id": loan_id},
        ).all()
        begin = started
        for _n, due, interest, waived, recognised in rows:
            due = _as_date(due)
            if not recognised:
                bind.execute(
                    sa.text(
                        "UPDATE loans SET accrual_start = :s, accrual_days = :days,"
                        " accrual_interest = :i, accrual_waived = :w WHERE id = :id"
                    ),
                    {
                        "s": max(begin, started).toordinal(),
                        "days": (due - max(begin, started)).days,
                        "i": interest,
                        "w": waived,
                        "id": loan_id,
                    },
                )
                break
            begin = due


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def downgrade() -> None:
    op.drop_index("ix_loans_non_accrual", table_name="loans")
    with op.batch_alter_table("instalments") as batch:
        batch.drop_column("upfront_share")
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("non_accrual_since")
        for name in reversed(MONEY):
            batch.drop_column(name)
        batch.drop_column("accrual_days")
        batch.drop_column("accrual_start")
