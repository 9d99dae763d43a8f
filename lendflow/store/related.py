"""Groups of related parties (table `related_parties`) and what a group owes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select

from lendflow.store import driver
from lendflow.store.loans import exposure_of_customers
from lendflow.store.tables import customers, related_parties
from lendflow.store.uow import UnitOfWork

RELATED = related_parties
# Every application asks it (the concentration limits): run through the driver.
_GROUPS_OF = (
    select(RELATED.c.group_code)
    .where(RELATED.c.id_hash == bindparam("id_hash"))
    .order_by(RELATED.c.group_code)
)


def add(uow: UnitOfWork, values: Mapping[str, Any]) -> None:
    uow.connection.execute(insert(RELATED).values(**values))


def member(uow: UnitOfWork, group: str, id_hash: str) -> bool:
    query = select(RELATED.c.id).where(RELATED.c.group_code == group, RELATED.c.id_hash == id_hash)
    return uow.connection.execute(query).first() is not None


def groups_of(uow: UnitOfWork, id_hash: str) -> list[str]:
    """The groups a person (by national-ID hash) belongs to, by name."""
    return [str(row["group_code"]) for row in driver.rows(uow, _GROUPS_OF, {"id_hash": id_hash})]


def members(uow: UnitOfWork, group: str) -> list[dict[str, Any]]:
    query = select(RELATED).where(RELATED.c.group_code == group).order_by(RELATED.c.id)
    return [dict(r) for r in uow.connection.execute(query).mappings()]


def group_exposure(uow: UnitOfWork, group: str) -> int:
    """What every customer of the group owes or may soon owe (as `loans.exposure`)."""
    ids = select(customers.c.id).where(
        customers.c.id_hash.in_(select(RELATED.c.id_hash).where(RELATED.c.group_code == group))
    )
    found = [int(i) for i in uow.connection.execute(ids).scalars()]
    return exposure_of_customers(uow, found)
