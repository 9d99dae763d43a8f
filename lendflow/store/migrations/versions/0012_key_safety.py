"""Key safety: the workspace key's fingerprint, ticket subjects sealed, blocklist IDs kept sealed.

The database records which key sealed it (`workspace_keys`, a fingerprint, never
the key), so a lost key file is never silently replaced and a wrong one is refused.
A ticket subject is free text a person typed: it is now sealed like a name, and a
sealed value no longer fits VARCHAR(200).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_keys",
        sa.Column("fingerprint", sa.String(length=64), primary_key=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column(
            "subject", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False
        )
    # The blocked person's national ID, sealed: a key rotation must re-compute the
    # look-up hash, which the hash alone cannot give back.
    op.add_column("blocklist", sa.Column("national_id_enc", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("blocklist", "national_id_enc")
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column(
            "subject", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False
        )
    op.drop_table("workspace_keys")
