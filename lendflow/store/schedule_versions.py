"""Schedule versions: each version of a loan's repayment schedule kept whole, so a
recalculated schedule never loses the one it replaced (`instalments` holds the latest)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import insert, select

from lendflow.store.tables import schedule_versions, utc_now
from lendflow.store.uow import UnitOfWork

VERSIONS = schedule_versions

Row = tuple[int, date, int, int, int]


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    found = dict(row)
    found["rows"] = [
        (n, date.fromisoformat(due), principal, interest, fee)
        for n, due, principal, interest, fee in json.loads(found["rows"])
    ]
    return found


def add(
    uow: UnitOfWork,
    loan_id: int,
    version: int,
    effective_on: date,
    reason: str,
    rows: Sequence[Row],
    *,
    method: str | None = None,
    amount: int = 0,
) -> None:
    uow.connection.execute(
        insert(VERSIONS).values(
            loan_id=loan_id,
            version=version,
            effective_on=effective_on,
            reason=reason,
            method=method,
            amount=amount,
            interest=sum(r[3] for r in rows),
            rows=json.dumps([[n, d.isoformat(), p, i, f] for n, d, p, i, f in rows]),
            created_at=utc_now(),
        )
    )


def for_loan(uow: UnitOfWork, loan_id: int) -> list[dict[str, Any]]:
    """The loan's schedule versions, oldest first (none before its first change)."""
    rows = uow.connection.execute(
        select(VERSIONS).where(VERSIONS.c.loan_id == loan_id).order_by(VERSIONS.c.version)
    ).mappings()
    return [_row(r) for r in rows]


def latest_by_loan(uow: UnitOfWork) -> dict[int, dict[str, Any]]:
    """Each recalculated loan's latest schedule version (the audit checks the kept
    schedule against the instalments)."""
    found: dict[int, dict[str, Any]] = {}
    for row in uow.connection.execute(select(VERSIONS).order_by(VERSIONS.c.version)).mappings():
        found[int(row["loan_id"])] = _row(row)
    return found
