"""Who took which work item from a queue (table `work_claims`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from lendflow.store import driver
from lendflow.store.tables import work_claims
from lendflow.store.uow import UnitOfWork

CLAIMS = work_claims
# Every decision on a referred application asks it: run through the driver.
_HOLDER = select(CLAIMS).where(
    CLAIMS.c.kind == bindparam("kind"), CLAIMS.c.subject_id == bindparam("subject_id")
)


def holder(uow: UnitOfWork, kind: str, subject_id: int) -> dict[str, Any] | None:
    """The claim on an item (who, since when), or None."""
    return driver.first(uow, _HOLDER, {"kind": kind, "subject_id": subject_id})


def holders(uow: UnitOfWork, kind: str, subject_ids: list[int]) -> dict[int, str]:
    """Who holds each of these items that is claimed."""
    if not subject_ids:
        return {}
    query = select(CLAIMS.c.subject_id, CLAIMS.c.claimed_by).where(
        CLAIMS.c.kind == kind, CLAIMS.c.subject_id.in_(subject_ids)
    )
    return {int(i): str(who) for i, who in uow.connection.execute(query)}


def claimed_by(uow: UnitOfWork, kind: str, user: str) -> list[int]:
    """The items of a kind a user holds, oldest claim first."""
    query = (
        select(CLAIMS.c.subject_id)
        .where(CLAIMS.c.kind == kind, CLAIMS.c.claimed_by == user)
        .order_by(CLAIMS.c.claimed_at, CLAIMS.c.id)
    )
    return [int(i) for i in uow.connection.execute(query).scalars()]


def add(uow: UnitOfWork, kind: str, subject_id: int, user: str, at: datetime) -> None:
    uow.connection.execute(
        insert(CLAIMS).values(kind=kind, subject_id=subject_id, claimed_by=user, claimed_at=at)
    )


def move(uow: UnitOfWork, kind: str, subject_id: int, user: str, at: datetime) -> None:
    uow.connection.execute(
        update(CLAIMS)
        .where(CLAIMS.c.kind == kind, CLAIMS.c.subject_id == subject_id)
        .values(claimed_by=user, claimed_at=at)
    )


def remove(uow: UnitOfWork, kind: str, subject_id: int) -> None:
    uow.connection.execute(
        delete(CLAIMS).where(CLAIMS.c.kind == kind, CLAIMS.c.subject_id == subject_id)
    )
