"""Events: no unique index on `hash`.

Every event appended inserted its hash into a unique index, and a hash is a random key:
each append wrote a leaf page of that index chosen at random, among pages that only ever
grow in number with the book's history. On a book of a million loans a night's events
(notices, moves through the loan machine) dirtied some 320 of the 6,100 pages each
close-of-business chunk commits, nearly one an event; on a book years old the index no
longer fits in memory and each append also reads its page from disk.

The index guarded nothing the chain does not: nothing looks an event up by its hash, and
each event's hash covers the one before it, so a copied, replayed or reordered event
breaks the chain that `audit verify` walks. The event chain's head (`event_chain`, one
row every writer locks) keeps appends in one order.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# SQLite's copy of the table names the constraint it reflects without a name
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_POSTGRES_NAME = "events_hash_key"  # PostgreSQL's own name for the unnamed constraint


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_POSTGRES_NAME, "events", type_="unique")
        return
    with op.batch_alter_table("events", naming_convention=_NAMES) as batch:
        batch.drop_constraint("uq_events_hash", type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint(_POSTGRES_NAME, "events", ["hash"])
        return
    with op.batch_alter_table("events") as batch:
        batch.create_unique_constraint("uq_events_hash", ["hash"])
