"""Reading and writing loans and their instalments with optimistic locking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select, update

from lendflow.domain.errors import Conflict, NotFound
from lendflow.store.tables import instalments as instalments_table
from lendflow.store.tables import loans, utc_now
from lendflow.store.uow import UnitOfWork

LOANS = loans
INSTALMENTS = instalments_table


def get(uow: UnitOfWork, loan_id: int, *, for_update: bool = False) -> dict[str, Any]:
    """The loan row; with `for_update` it is locked until the transaction ends."""
    query = select(LOANS).where(LOANS.c.id == loan_id)
    if for_update:
        query = query.with_for_update()
    row = uow.connection.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"loan {loan_id} does not exist")
    return dict(row)


def insert_loan(uow: UnitOfWork, values: Mapping[str, Any]) -> int:
    return int(
        uow.connection.execute(insert(LOANS).values(**values).returning(LOANS.c.id)).scalar_one()
    )


def save(uow: UnitOfWork, loan: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Write `changes` if nobody changed the loan since it was read; bump its version.

    The version condition is in the UPDATE itself, so it holds for set-based and
    single-row writes alike and a concurrent writer can never be overwritten.
    """
    version = loan["version"]
    result = uow.connection.execute(
        update(LOANS)
        .where(LOANS.c.id == loan["id"], LOANS.c.version == version)
        .values(**changes, version=version + 1, updated_at=utc_now())
    )
    if result.rowcount != 1:
        raise Conflict(f"loan {loan['id']} was changed by someone else; read it again and retry")
    return {**loan, **changes, "version": version + 1}


def instalments(uow: UnitOfWork, loan_id: int) -> list[dict[str, Any]]:
    rows = uow.connection.execute(
        select(INSTALMENTS).where(INSTALMENTS.c.loan_id == loan_id).order_by(INSTALMENTS.c.n)
    ).mappings()
    return [dict(r) for r in rows]


def insert_instalments(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    if rows:
        uow.connection.execute(insert(INSTALMENTS), rows)


def update_instalment(uow: UnitOfWork, instalment_id: int, changes: Mapping[str, Any]) -> None:
    uow.connection.execute(
        update(INSTALMENTS).where(INSTALMENTS.c.id == instalment_id).values(**changes)
    )


def open_applications(uow: UnitOfWork, customer_id: int, product_code: str) -> list[int]:
    rows = uow.connection.execute(
        select(LOANS.c.id).where(
            LOANS.c.customer_id == customer_id,
            LOANS.c.product_code == product_code,
            LOANS.c.state.in_(("submitted", "under_review", "approved")),
        )
    )
    return [r[0] for r in rows]


def exposure(uow: UnitOfWork, customer_id: int) -> int:
    """What the customer owes or may soon owe us: principal outstanding plus open requests."""
    outstanding = uow.connection.execute(
        select(func.coalesce(func.sum(LOANS.c.principal_outstanding), 0)).where(
            LOANS.c.customer_id == customer_id, LOANS.c.state.in_(("active", "overdue"))
        )
    ).scalar_one()
    pending = uow.connection.execute(
        select(
            func.coalesce(
                func.sum(func.coalesce(LOANS.c.approved_amount, LOANS.c.requested_amount)), 0
            )
        ).where(
            LOANS.c.customer_id == customer_id,
            LOANS.c.state.in_(("submitted", "under_review", "approved")),
        )
    ).scalar_one()
    return int(outstanding) + int(pending)


def list_loans(
    uow: UnitOfWork,
    *,
    state: str | None = None,
    product: str | None = None,
    limit: int = 100,
    after_id: int = 0,
) -> list[dict[str, Any]]:
    query = select(LOANS).where(LOANS.c.id > after_id)
    if state:
        query = query.where(LOANS.c.state == state)
    if product:
        query = query.where(LOANS.c.product_code == product)
    rows = uow.connection.execute(query.order_by(LOANS.c.id).limit(limit)).mappings()
    return [dict(r) for r in rows]


def ids_in_state(uow: UnitOfWork, state: str, after_id: int, limit: int) -> list[int]:
    rows = uow.connection.execute(
        select(LOANS.c.id)
        .where(LOANS.c.state == state, LOANS.c.id > after_id)
        .order_by(LOANS.c.id)
        .limit(limit)
    )
    return [r[0] for r in rows]
