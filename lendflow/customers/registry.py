"""Customers: personal data encrypted at rest, found by keyed hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update

from lendflow.domain.errors import NotFound, Refused
from lendflow.store import driver
from lendflow.store.personal_data import PersonalDataCipher
from lendflow.store.tables import customers as customers_table
from lendflow.store.uow import UnitOfWork

CUSTOMERS = customers_table
_GET = select(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("customer_id"))
_BY_ID_HASH = select(CUSTOMERS).where(CUSTOMERS.c.id_hash == bindparam("id_hash"))
_UPDATE = update(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("b_id"))


@dataclass(frozen=True)
class PersonalData:
    name: str
    national_id: str
    phone: str


def find_or_create(
    uow: UnitOfWork, cipher: PersonalDataCipher, person: PersonalData, monthly_income: int
) -> int:
    """The customer with this national ID, created on first application (see `enrol`)."""
    return int(enrol(uow, cipher, person, monthly_income)["id"])


def enrol(
    uow: UnitOfWork, cipher: PersonalDataCipher, person: PersonalData, monthly_income: int
) -> dict[str, Any]:
    """The customer's row with this national ID as it now stands, created on first application.

    A later application may update income and phone; a different name for the
    same national ID is refused, since it means a typo or an impostor.
    """
    id_hash = cipher.lookup_hash(person.national_id, "national_id")
    row = driver.first(uow, _BY_ID_HASH, {"id_hash": id_hash})
    phone_hash = cipher.lookup_hash(person.phone, "phone")
    if row is None:
        values = {
            "name_enc": cipher.encrypt(person.name, "name"),
            "national_id_enc": cipher.encrypt(person.national_id, "national_id"),
            "phone_enc": cipher.encrypt(person.phone, "phone"),
            "id_hash": id_hash,
            "phone_hash": phone_hash,
            "monthly_income": monthly_income,
        }
        # Two terminals may enter the same new borrower at once: the second insert
        # yields to the first instead of failing (it returns no row), and both find
        # the one customer.
        inserted = driver.first(uow, _insert_if_new(uow.dialect), values)
        if inserted is not None:
            return inserted
        row = driver.first(uow, _BY_ID_HASH, {"id_hash": id_hash})
        if row is None:  # pragma: no cover - the conflicting row cannot vanish
            raise NotFound("the customer entered at another terminal could not be read")
    if cipher.decrypt(row["name_enc"], "name") != person.name:
        raise Refused("the name does not match the customer on file for this national ID")
    changes: dict[str, Any] = {"monthly_income": monthly_income}
    if row["phone_hash"] != phone_hash:
        changes |= {"phone_enc": cipher.encrypt(person.phone, "phone"), "phone_hash": phone_hash}
    driver.execute(uow, _UPDATE, {**changes, "b_id": row["id"]})
    return {**row, **changes}


_INSERTS_IF_NEW: dict[str, Any] = {}


def _insert_if_new(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the row, built once per dialect."""
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


def get(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    found = driver.first(uow, _GET, {"customer_id": customer_id})
    if found is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return found


# Re-exported: callers read customers and show them from one module.
from lendflow.customers.views import customer_view  # noqa: E402

__all__ = ["PersonalData", "customer_view", "enrol", "find_or_create", "get"]
