"""Stored tables. Money columns are BIGINT fen; rates are exact decimal strings.

SQLite has no decimal type (a `Numeric` column goes through float there), so a
rate is stored as its canonical decimal text and parsed back with `Decimal`.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
