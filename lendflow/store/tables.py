"""Stored tables. Money columns are BIGINT fen; rates are exact decimal strings.

SQLite has no decimal type (a `Numeric` column goes through float there), so a
rate is stored as its canonical decimal text and parsed back with `Decimal`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    """Wall-clock UTC, for audit timestamps only — never for business dates."""
    return datetime.now(UTC)


class Product(SQLModel, table=True):
    """A loan product, known by its code; its terms live in its versions."""

    __tablename__ = "products"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utc_now)


class ProductVersion(SQLModel, table=True):
    """One version of a product's spec; loans stay bound to the version they used."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_code", "version", name="uq_product_version"),)

    id: int | None = Field(default=None, primary_key=True)
    product_code: str = Field(foreign_key="products.code", index=True, max_length=64)
    version: int
    state: str = Field(max_length=32, index=True)
    spec_yaml: str = Field(sa_column=Column(Text, nullable=False))
    spec_sha256: str = Field(max_length=64)
    min_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    max_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    annual_rate: str = Field(max_length=32)
    row_version: int = Field(default=1)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now)


def money(nullable: bool = False, default: int | None = 0) -> Any:
    """A BIGINT fen column."""
    return Field(
        default=default,
        sa_column_kwargs={"nullable": nullable},
        sa_type=BigInteger,
    )


class Customer(SQLModel, table=True):
    """A borrower. Name, national ID and phone are stored only encrypted.

    `id_hash` and `phone_hash` are keyed hashes (HMAC with the workspace key) so
    duplicates can be found without keeping the clear values.
    """

    __tablename__ = "customers"

    id: int | None = Field(default=None, primary_key=True)
    name_enc: str = Field(sa_column=Column(Text, nullable=False))
    national_id_enc: str = Field(sa_column=Column(Text, nullable=False))
    phone_enc: str = Field(sa_column=Column(Text, nullable=False))
    id_hash: str = Field(max_length=64, unique=True)
    phone_hash: str = Field(max_length=64, index=True)
    monthly_income: int = money()
    created_at: datetime = Field(default_factory=utc_now)


class Loan(SQLModel, table=True):
    """A loan from application to its end; balances are what the ledger says."""

    __tablename__ = "loans"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    product_code: str = Field(max_length=64, index=True)
    product_version_id: int = Field(foreign_key="product_versions.id", index=True)
    state: str = Field(max_length=32, index=True)
    purpose: str = Field(default="", max_length=64)
    requested_amount: int = money()
    approved_amount: int | None = money(nullable=True, default=None)
    principal: int = money()
    term: int
    annual_rate: str = Field(max_length=32)
    apr: str | None = Field(default=None, max_length=32)
    method: str = Field(max_length=32)
    applied_on: date
    reviewed_on: date | None = None
    decided_on: date | None = None
    approval_expires_on: date | None = None
    disbursed_on: date | None = None
    maturity_on: date | None = None
    closed_on: date | None = None
    reason_code: str | None = Field(default=None, max_length=64)
    decision_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    principal_outstanding: int = money()
    interest_receivable: int = money()
    fee_receivable: int = money()
    penalty_receivable: int = money()
    credit_balance: int = money()
    dpd: int = 0
    bucket: str = Field(default="M0", max_length=16)
    classification: str = Field(default="normal", max_length=32)
    cob_through: date | None = None
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class Instalment(SQLModel, table=True):
    """One scheduled instalment and what has been paid, waived or recognised of it."""

    __tablename__ = "instalments"
    __table_args__ = (UniqueConstraint("loan_id", "n", name="uq_instalment_n"),)

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    n: int
    due_date: date = Field(index=True)
    principal: int = money()
    interest: int = money()
    fee: int = money()
    penalty: int = money()
    principal_paid: int = money()
    interest_paid: int = money()
    fee_paid: int = money()
    penalty_paid: int = money()
    interest_waived: int = money()
    fee_waived: int = money()
    recognised: bool = False
    paid_on: date | None = None


class JournalEntry(SQLModel, table=True):
    """One balanced money movement; its lines are in journal_lines."""

    __tablename__ = "journal_entries"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int | None = Field(default=None, foreign_key="loans.id", index=True)
    kind: str = Field(max_length=32)
    business_date: date
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    actor: str = Field(max_length=64)
    memo: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utc_now)


class JournalLine(SQLModel, table=True):
    __tablename__ = "journal_lines"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="journal_entries.id", index=True)
    loan_id: int | None = Field(default=None, index=True)
    account: str = Field(max_length=32, index=True)
    debit: int = money()
    credit: int = money()


class Event(SQLModel, table=True):
    """Append-only audit trail, hash-chained; customers appear by id only."""

    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64, index=True)
    name: str = Field(max_length=64)
    trigger: str | None = Field(default=None, max_length=32)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    actor: str = Field(max_length=64)
    business_date: date
    recorded_at: datetime = Field(default_factory=utc_now)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class ChainHead(SQLModel, table=True):
    """The newest event's hash: one row, locked by every writer to keep one chain."""

    __tablename__ = "event_chain"

    id: int = Field(default=1, primary_key=True)
    last_event_id: int = 0
    last_hash: str = Field(max_length=64)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a money-moving request, returned again on replay."""

    __tablename__ = "idempotency_records"

    key: str = Field(primary_key=True, max_length=128)
    operation: str = Field(max_length=32)
    request_hash: str = Field(max_length=64)
    loan_id: int | None = None
    response: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utc_now)


class Payout(SQLModel, table=True):
    """A disbursement sent to the payment gateway, by a reference it deduplicates on."""

    __tablename__ = "payouts"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    reference: str = Field(max_length=128, unique=True)
    amount: int = money()
    status: str = Field(max_length=16)
    gateway_ref: str | None = Field(default=None, max_length=128)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
