"""Instalments: no index by due date that no query reads.

Every read of instalments by date is the night's, and each names the part of the table
it wants: the unrecognised ones by date (`ix_instalments_unrecognised`: those falling
due, and any left behind) and the arrears by loan (`ix_instalments_arrears`). Two older
indexes served no query on either database: `ix_instalments_due_date` on the due date
alone, which held every instalment ever scheduled, and `ix_instalments_open` on (due
date, loan id) of the unpaid ones, which the arrears index replaced (revision 0006).

- On a million-loan SQLite book they took 121 MB and 89 MB, a sixth of the file.
- A disbursement's instalments fall due on as many dates, so each went into a leaf page
  of its own in both: 14.3 of the 47.8 pages a payout wrote to the log
  (`benchmarks.bench_pages`).
- On PostgreSQL, each instalment the night recognises and each one a repayment settles
  is a new row version, put in every index of the table: two fewer now.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_instalments_due_date", table_name="instalments")
    op.drop_index("ix_instalments_open", table_name="instalments")


def downgrade() -> None:
    op.create_index(
        "ix_instalments_open",
        "instalments",
        ["due_date", "loan_id"],
        sqlite_where=sa.text("paid_on IS NULL"),
        postgresql_where=sa.text("paid_on IS NULL"),
    )
    op.create_index("ix_instalments_due_date", "instalments", ["due_date"])
