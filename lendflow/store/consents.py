"""Consents given with applications (table `consents`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from lendflow.store.tables import consents
from lendflow.store.uow import UnitOfWork

CONSENTS = consents


def add_all(uow: UnitOfWork, rows: Iterable[Mapping[str, Any]]) -> None:
    found = [dict(r) for r in rows]
    if found:
        uow.connection.execute(insert(CONSENTS), found)


def of_loan(uow: UnitOfWork, loan_id: int) -> list[dict[str, Any]]:
    query = select(CONSENTS).where(CONSENTS.c.loan_id == loan_id).order_by(CONSENTS.c.id)
    return [dict(r) for r in uow.connection.execute(query).mappings()]


def in_force(uow: UnitOfWork, loan_id: int, name: str) -> bool:
    """Whether the loan's applicant gave consent `name` and has not withdrawn it."""
    query = select(CONSENTS.c.id).where(
        CONSENTS.c.loan_id == loan_id, CONSENTS.c.name == name, CONSENTS.c.withdrawn_on.is_(None)
    )
    return uow.connection.execute(query).first() is not None


def withdraw(uow: UnitOfWork, loan_id: int, name: str, on: date) -> None:
    uow.connection.execute(
        update(CONSENTS)
        .where(CONSENTS.c.loan_id == loan_id, CONSENTS.c.name == name)
        .values(withdrawn_on=on)
    )
