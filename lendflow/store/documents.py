"""Documents kept as issued: sealed content, its SHA-256, who issued it and when."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select

from lendflow.store import driver
from lendflow.store.tables import documents as documents_table
from lendflow.store.uow import UnitOfWork

DOCUMENTS = documents_table
_KEEP = insert(DOCUMENTS).returning(DOCUMENTS.c.id)


def keep(uow: UnitOfWork, values: Mapping[str, Any]) -> int:
    """Insert a document; returns its id. Through the driver: close of business keeps
    overdue notices nightly, in bulk."""
    return int(driver.scalar(uow, _KEEP, values))


_KEEP_MANY = insert(DOCUMENTS)


def keep_many(uow: UnitOfWork, rows: list[Mapping[str, Any]]) -> None:
    """Insert many documents in one driver call (a night's overdue notices)."""
    driver.execute_many(uow, _KEEP_MANY, rows)


def get(uow: UnitOfWork, document_id: int) -> dict[str, Any] | None:
    row = (
        uow.connection.execute(select(DOCUMENTS).where(DOCUMENTS.c.id == document_id))
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


_LISTED = select(*(c for c in DOCUMENTS.c if c.name != "content_enc"))


def page_for_loan(
    uow: UnitOfWork, loan_id: int, offset: int, limit: int | None
) -> tuple[int, list[dict[str, Any]]]:
    """One page of the loan's documents in the order they were kept (all without a
    `limit`; without their sealed content, which a list does not show), and how many it
    has in all."""
    mine = DOCUMENTS.c.loan_id == loan_id
    total = uow.connection.execute(select(func.count()).select_from(DOCUMENTS).where(mine)).scalar()
    rows = uow.connection.execute(
        _LISTED.where(mine).order_by(DOCUMENTS.c.id).offset(offset).limit(limit)
    ).mappings()
    return int(total or 0), [dict(row) for row in rows]
