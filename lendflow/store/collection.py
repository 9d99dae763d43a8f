"""Collectors' contacts with borrowers (table `collection_contacts`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select

from lendflow.store.tables import collection_contacts
from lendflow.store.uow import UnitOfWork

CONTACTS = collection_contacts


def add(uow: UnitOfWork, values: Mapping[str, Any]) -> int:
    query = insert(CONTACTS).returning(CONTACTS.c.id)
    return int(uow.connection.execute(query, dict(values)).scalar_one())


def count_on(uow: UnitOfWork, loan_id: int, day: date) -> int:
    """Contacts about a loan on a business date."""
    query = select(func.count()).where(
        CONTACTS.c.loan_id == loan_id, CONTACTS.c.business_date == day
    )
    return int(uow.connection.execute(query.select_from(CONTACTS)).scalar_one())


def of_loan(uow: UnitOfWork, loan_id: int) -> list[dict[str, Any]]:
    query = select(CONTACTS).where(CONTACTS.c.loan_id == loan_id).order_by(CONTACTS.c.id)
    return [dict(r) for r in uow.connection.execute(query).mappings()]
