"""Consents given with applications (table `consents`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from lendflow.store import driver
from lendflow.store.tables import consents
from lendflow.store.uow import UnitOfWork

CONSENTS = consents
# Every application records its consents and every review asks for one: run through
# the driver (`store.driver`).
_ADD = insert(CONSENTS)
_IN_FORCE = select(CONSENTS.c.id).where(
    CONSENTS.c.loan_id == bindparam("loan_id"),
    CONSENTS.c.name == bindparam("name"),
    CONSENTS.c.withdrawn_on.is_(None),
)


def add_all(uow: UnitOfWork, rows: Iterable[Mapping[str, Any]]) -> None:
    """Record consents (every row with the same columns) in one driver call."""
    found = [dict(r) for r in rows]
    if found:
        driver.execute_many(uow, _ADD, found)


def of_loan(uow: UnitOfWork, loan_id: int) -> list[dict[str, Any]]:
    query = select(CONSENTS).where(CONSENTS.c.loan_id == loan_id).order_by(CONSENTS.c.id)
    return [dict(r) for r in uow.connection.execute(query).mappings()]


def in_force(uow: UnitOfWork, loan_id: int, name: str) -> bool:
    """Whether the loan's applicant gave consent `name` and has not withdrawn it."""
    return driver.first(uow, _IN_FORCE, {"loan_id": loan_id, "name": name}) is not None


def withdraw(uow: UnitOfWork, loan_id: int, name: str, on: date) -> None:
    uow.connection.execute(
        update(CONSENTS)
        .where(CONSENTS.c.loan_id == loan_id, CONSENTS.c.name == name)
        .values(withdrawn_on=on)
    )
