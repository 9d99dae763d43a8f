"""Refunds of a loan's credit balance sent to the payment gateway, each under its own
reference (the gateway pays a reference at most once)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select, update

from lendflow.store.tables import refunds, utc_now
from lendflow.store.uow import UnitOfWork

REFUNDS = refunds
IN_FLIGHT = ("pending",)  # sent or about to be, outcome unknown


def by_reference(uow: UnitOfWork, reference: str) -> dict[str, Any] | None:
    row = (
        uow.connection.execute(select(REFUNDS).where(REFUNDS.c.reference == reference))
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def add(uow: UnitOfWork, values: Mapping[str, Any]) -> None:
    now = utc_now()
    uow.connection.execute(insert(REFUNDS).values(**values, created_at=now, updated_at=now))


def change(uow: UnitOfWork, reference: str, changes: Mapping[str, Any]) -> None:
    uow.connection.execute(
        update(REFUNDS)
        .where(REFUNDS.c.reference == reference)
        .values(**changes, updated_at=utc_now())
    )


def pending_total(uow: UnitOfWork, loan_id: int, leaving_out: str) -> int:
    """What the loan's other pending refunds may still pay out (reserved from its credit)."""
    total = uow.connection.execute(
        select(func.coalesce(func.sum(REFUNDS.c.amount), 0)).where(
            REFUNDS.c.loan_id == loan_id,
            REFUNDS.c.status.in_(IN_FLIGHT),
            REFUNDS.c.reference != leaving_out,
        )
    ).scalar_one()
    return int(total)


def all_refunds(uow: UnitOfWork) -> list[dict[str, Any]]:
    rows = uow.connection.execute(
        select(REFUNDS.c.id, REFUNDS.c.loan_id, REFUNDS.c.reference, REFUNDS.c.amount,
               REFUNDS.c.status).order_by(REFUNDS.c.id)
    ).mappings()  # fmt: skip
    return [dict(r) for r in rows]
