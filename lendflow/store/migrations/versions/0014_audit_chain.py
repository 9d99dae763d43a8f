"""A keyed event chain: events from `keyed_from` on are chained with HMAC-SHA256.

Events written before this revision were chained with plain SHA-256; they keep their
hashes and still verify as such. The chain's head row records the first event id that
is keyed, so a fresh workspace (no events yet) writes only keyed events.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_chain", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keyed_from", sa.Integer(), nullable=False, server_default="1")
        )
    op.execute("UPDATE event_chain SET keyed_from = last_event_id + 1")


def downgrade() -> None:
    with op.batch_alter_table("event_chain", schema=None) as batch_op:
        batch_op.drop_column("keyed_from")
