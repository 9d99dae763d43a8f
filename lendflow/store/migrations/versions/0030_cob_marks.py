"""Close of business keeps a mark per id range instead of rewriting every loan each night.

A loan with no news on a date (nothing falling due, not overdue, accruing to income)
changes in a foreseeable way: its watermark moves a day, a day's principal is added to
its fen-days and its accrual moves to what its running period has earned. Writing that
into every row cost the night most of its time (a million rows rewritten whole). Such a
loan now follows its range's mark (`cob_marks`): `loans.follows_from` is the day its
stored figures are as of, and its figures through the mark are derived from them
(`domain.accrual.followed`). A loan with news, or one an action changes, is written
with its figures made current again (`store.cob_marks`).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("follows_from", sa.Integer(), nullable=True))
    op.create_table(
        "cob_marks",
        sa.Column("lo", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hi", sa.Integer(), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("lo"),
    )


def downgrade() -> None:
    # Only a book whose loans all hold their own figures can go back: a close of business
    # with `follow_marks_from: null` in cob.yaml gives them back (`store.cob_chunk_marks.release`).
    following = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM loans WHERE follows_from IS NOT NULL"))
        .scalar_one()
    )
    if following:
        raise RuntimeError(
            f"{following} loans follow a close-of-business mark: close a day with"
            " `follow_marks_from: null` in cob.yaml first, so they hold their own figures"
        )
    op.drop_table("cob_marks")
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("follows_from")
