"""Whole-book reads for the fault simulator's auditor, and a PostgreSQL schema per seed.

The simulator (`lendflow.sandbox.torture`) checks its small book after every step:
each journal line with its entry's kind and key, every payout, loan and instalment.
Nothing on the lending path reads through here. Each seed on PostgreSQL runs in a
schema of its own, so seeds can run side by side and leave nothing behind.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import create_engine, select, text

from lendflow.domain.errors import BadInput
from lendflow.store.tables import instalments, journal_entries, journal_lines, loans, payouts
from lendflow.store.uow import UnitOfWork

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
LOAN_COLUMNS = (
    "id",
    "state",
    "approved_amount",
    "principal",
    "principal_outstanding",
    "interest_receivable",
    "fee_receivable",
    "penalty_receivable",
    "credit_balance",
    "interest_suspended",
    "penalty_suspended",
    "written_off_amount",
)
INSTALMENT_COLUMNS = (
    "loan_id",
    "n",
    "principal",
    "interest",
    "fee",
    "penalty",
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "penalty_paid",
    "interest_waived",
    "fee_waived",
)


def journal_lines_by_entry(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every journal line with its entry's id, loan, kind and idempotency key, in order."""
    query = (
        select(
            journal_entries.c.id.label("entry_id"),
            journal_entries.c.loan_id,
            journal_entries.c.kind,
            journal_entries.c.idempotency_key,
            journal_lines.c.account,
            journal_lines.c.debit,
            journal_lines.c.credit,
        )
        .join(journal_lines, journal_lines.c.entry_id == journal_entries.c.id)
        .order_by(journal_lines.c.id)
    )
    return [dict(row) for row in uow.connection.execute(query).mappings()]


def payout_rows(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every payout lendflow asked for: loan, reference, amount and status."""
    query = select(payouts.c.loan_id, payouts.c.reference, payouts.c.amount, payouts.c.status)
    return [dict(row) for row in uow.connection.execute(query).mappings()]


def loan_rows(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every loan's status, amounts and stored balances, by id."""
    query = select(*[loans.c[c] for c in LOAN_COLUMNS]).order_by(loans.c.id)
    return [dict(row) for row in uow.connection.execute(query).mappings()]


def instalment_rows(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every instalment's amounts due, paid and waived."""
    query = select(*[instalments.c[c] for c in INSTALMENT_COLUMNS]).order_by(instalments.c.id)
    return [dict(row) for row in uow.connection.execute(query).mappings()]


def create_schema(base_url: str, schema: str) -> str:
    """Create `schema` on the PostgreSQL at `base_url`; a URL whose connections see only it."""
    _check_schema(schema)
    _admin(base_url, f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


def drop_schema(base_url: str, schema: str) -> None:
    """Drop `schema` and everything in it (a seed's book, once checked)."""
    _check_schema(schema)
    _admin(base_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _check_schema(schema: str) -> None:
    if not SCHEMA_NAME.match(schema):
        raise BadInput(f"schema name must be lower-case letters, digits and _, got {schema!r}")


def _admin(base_url: str, statement: str) -> None:
    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()
