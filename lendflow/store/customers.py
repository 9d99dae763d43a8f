"""Customer rows: personal data arrives here already sealed, and is found by keyed hash.

Every application reads and writes its customer, so these statements run straight
through the driver (`store.driver`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select, update

from lendflow.domain.errors import NotFound
from lendflow.store import driver
from lendflow.store.tables import customers as customers_table
from lendflow.store.uow import UnitOfWork

CUSTOMERS = customers_table
_GET = select(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("customer_id"))
_MANY = select(CUSTOMERS).where(CUSTOMERS.c.id.in_(bindparam("ids", expanding=True)))
_BY_ID_HASH = select(CUSTOMERS).where(CUSTOMERS.c.id_hash == bindparam("id_hash"))
_UPDATE = update(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("b_id"))
_INSERTS_IF_NEW: dict[str, Any] = {}


def get(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    found = driver.first(uow, *get_read(customer_id))
    if found is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return found


def get_many(uow: UnitOfWork, customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The rows of many customers by id, each as `get` returns it (a missing id is absent)."""
    return {row["id"]: row for row in driver.rows_by_ids(uow, _MANY, customer_ids)}


def get_read(customer_id: int) -> tuple[Any, dict[str, Any]]:
    """`get` as a read to send with others (`driver.together`)."""
    return _GET, {"customer_id": customer_id}


def exists(uow: UnitOfWork, customer_id: int) -> bool:
    found = uow.connection.execute(
        select(CUSTOMERS.c.id).where(CUSTOMERS.c.id == customer_id)
    ).scalar()
    return found is not None


def by_id_hash(uow: UnitOfWork, id_hash: str) -> dict[str, Any] | None:
    """The customer whose national ID has this keyed hash, or None."""
    return driver.first(uow, _BY_ID_HASH, {"id_hash": id_hash})


def insert_if_new(uow: UnitOfWork, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """Insert a customer and return the stored row, or None when a customer with the
    same `id_hash` is already there (inserted meanwhile by another transaction):
    the insert yields instead of failing, so the caller can read that one."""
    return driver.first(uow, _insert_if_new(uow.dialect), values)


def update_customer(uow: UnitOfWork, customer_id: int, changes: Mapping[str, Any]) -> None:
    driver.execute(uow, _UPDATE, {**changes, "b_id": customer_id})


def _insert_if_new(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the row, built once per dialect
    (the driver caches statements by identity)."""
    found = _INSERTS_IF_NEW.get(dialect)
    if found is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        found = _INSERTS_IF_NEW[dialect] = (
            insert(CUSTOMERS)
            .on_conflict_do_nothing(index_elements=["id_hash"])
            .returning(*CUSTOMERS.c)
        )
    return found


def ids_by_hash(
    uow: UnitOfWork, *, id_hash: str | None = None, phone_hash: str | None = None
) -> list[int]:
    """Customers whose national ID or phone has this keyed hash (an indexed lookup; the
    clear text is never scanned)."""
    column = CUSTOMERS.c.id_hash if id_hash is not None else CUSTOMERS.c.phone_hash
    wanted = id_hash if id_hash is not None else phone_hash
    query = select(CUSTOMERS.c.id).where(column == wanted).order_by(CUSTOMERS.c.id)
    return [int(i) for i in uow.connection.execute(query).scalars()]
