"""Repayment reversals asked for and approved (four eyes)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from lendflow.domain.errors import NotFound
from lendflow.store.tables import repayment_reversals, utc_now
from lendflow.store.uow import UnitOfWork

REVERSALS = repayment_reversals


def add(
    uow: UnitOfWork, loan_id: int, reference: str, reason: str, asked_by: str, asked_on: date
) -> dict[str, Any]:
    row = (
        uow.connection.execute(
            insert(REVERSALS)
            .values(
                loan_id=loan_id,
                reference=reference,
                reason=reason,
                status="pending",
                asked_by=asked_by,
                asked_on=asked_on,
                created_at=utc_now(),
            )
            .returning(*REVERSALS.c)
        )
        .mappings()
        .one()
    )
    return dict(row)


def get(uow: UnitOfWork, reversal_id: int) -> dict[str, Any]:
    row = (
        uow.connection.execute(
            select(REVERSALS).where(REVERSALS.c.id == reversal_id).with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"repayment reversal {reversal_id} does not exist")
    return dict(row)


def pending_for(uow: UnitOfWork, loan_id: int, reference: str) -> dict[str, Any] | None:
    row = (
        uow.connection.execute(
            select(REVERSALS).where(
                REVERSALS.c.loan_id == loan_id,
                REVERSALS.c.reference == reference,
                REVERSALS.c.status == "pending",
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def decide(uow: UnitOfWork, reversal_id: int, decided_by: str, decided_on: date) -> None:
    uow.connection.execute(
        update(REVERSALS)
        .where(REVERSALS.c.id == reversal_id)
        .values(status="reversed", decided_by=decided_by, decided_on=decided_on)
    )
