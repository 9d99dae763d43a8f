"""Loan actions asked by one person and approved or declined by another (four eyes):
waivers, accelerations and restructures, one table for every kind (`payload` is its
JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from lendflow.domain.errors import NotFound
from lendflow.store.tables import loan_requests, utc_now
from lendflow.store.uow import UnitOfWork

REQUESTS = loan_requests


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    found = dict(row)
    found["payload"] = json.loads(found["payload"])
    return found


def add(
    uow: UnitOfWork,
    kind: str,
    loan_id: int,
    payload: Mapping[str, Any],
    asked_by: str,
    asked_on: date,
) -> dict[str, Any]:
    row = (
        uow.connection.execute(
            insert(REQUESTS)
            .values(
                kind=kind,
                loan_id=loan_id,
                payload=json.dumps(dict(payload), sort_keys=True),
                asked_by=asked_by,
                asked_on=asked_on,
                status="pending",
                created_at=utc_now(),
            )
            .returning(*REQUESTS.c)
        )
        .mappings()
        .one()
    )
    return _row(row)


def get(uow: UnitOfWork, request_id: int) -> dict[str, Any]:
    """The request, locked until the transaction ends."""
    row = (
        uow.connection.execute(
            select(REQUESTS).where(REQUESTS.c.id == request_id).with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"loan request {request_id} does not exist")
    return _row(row)


def pending_for(uow: UnitOfWork, loan_id: int, kind: str) -> dict[str, Any] | None:
    row = (
        uow.connection.execute(
            select(REQUESTS)
            .where(
                REQUESTS.c.loan_id == loan_id,
                REQUESTS.c.kind == kind,
                REQUESTS.c.status == "pending",
            )
            .order_by(REQUESTS.c.id)
        )
        .mappings()
        .first()
    )
    return None if row is None else _row(row)


def for_loan(uow: UnitOfWork, loan_id: int) -> list[dict[str, Any]]:
    """Every request on the loan, oldest first."""
    rows = uow.connection.execute(
        select(REQUESTS).where(REQUESTS.c.loan_id == loan_id).order_by(REQUESTS.c.id)
    ).mappings()
    return [_row(r) for r in rows]


def decide(
    uow: UnitOfWork,
    request_id: int,
    status: str,
    decided_by: str,
    decided_on: date,
    payload: Mapping[str, Any],
) -> None:
    """Record the decision, with the payload as the action was booked (figures it worked
    out when approved, such as a restructure's new principal) or why it was declined."""
    uow.connection.execute(
        update(REQUESTS)
        .where(REQUESTS.c.id == request_id)
        .values(
            status=status,
            decided_by=decided_by,
            decided_on=decided_on,
            payload=json.dumps(dict(payload), sort_keys=True),
        )
    )


def approved_schedule_changes(
    uow: UnitOfWork, kinds: tuple[str, ...]
) -> dict[int, list[dict[str, Any]]]:
    """Every approved request of `kinds`, by loan id, in the order they were approved
    (the audit rebuilds an accelerated or restructured schedule from them)."""
    rows = uow.connection.execute(
        select(REQUESTS)
        .where(REQUESTS.c.status == "approved", REQUESTS.c.kind.in_(list(kinds)))
        .order_by(REQUESTS.c.decided_on, REQUESTS.c.id)
    ).mappings()
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(int(row["loan_id"]), []).append(_row(row))
    return found
