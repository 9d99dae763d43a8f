"""Customers: personal data encrypted at rest, found by keyed hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lendflow.domain.errors import NotFound, Refused
from lendflow.store import customers as customer_store
from lendflow.store.personal_data import PersonalDataCipher, customer_row
from lendflow.store.uow import UnitOfWork


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
    row = customer_store.by_id_hash(uow, id_hash)
    phone_hash = cipher.lookup_hash(person.phone, "phone")
    bound = customer_row(id_hash)
    if row is None:
        values = {
            "name_enc": cipher.encrypt(person.name, "name", bound),
            "national_id_enc": cipher.encrypt(person.national_id, "national_id", bound),
            "phone_enc": cipher.encrypt(person.phone, "phone", bound),
            "id_hash": id_hash,
            "phone_hash": phone_hash,
            "monthly_income": monthly_income,
        }
        # Two terminals may enter the same new borrower at once: the second insert
        # yields to the first instead of failing (it returns no row), and both find
        # the one customer.
        inserted = customer_store.insert_if_new(uow, values)
        if inserted is not None:
            return inserted
        row = customer_store.by_id_hash(uow, id_hash)
        if row is None:  # pragma: no cover - the conflicting row cannot vanish
            raise NotFound("the customer entered at another terminal could not be read")
    if cipher.decrypt(row["name_enc"], "name", bound) != person.name:
        raise Refused("the name does not match the customer on file for this national ID")
    changes: dict[str, Any] = {"monthly_income": monthly_income}
    if row["phone_hash"] != phone_hash:
        sealed = cipher.encrypt(person.phone, "phone", bound)
        changes |= {"phone_enc": sealed, "phone_hash": phone_hash}
    customer_store.update_customer(uow, row["id"], changes)
    return {**row, **changes}


def get(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    return customer_store.get(uow, customer_id)


def get_many(uow: UnitOfWork, customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Many customers' rows by id, for a batch job (a missing id is absent)."""
    return customer_store.get_many(uow, customer_ids)


# Re-exported: callers read customers and show them from one module.
from lendflow.customers.views import customer_view  # noqa: E402

__all__ = ["PersonalData", "customer_view", "enrol", "find_or_create", "get", "get_many"]


def find_by_identity(uow: UnitOfWork, cipher: PersonalDataCipher, text: str) -> list[int] | None:
    """Customers a national ID or a mobile number names, through their keyed hashes;
    None when `text` is neither (the caller may read it as something else)."""
    from lendflow.domain.errors import BadInput
    from lendflow.domain.identity import validate_national_id, validate_phone

    try:
        national_id = validate_national_id(text)
    except BadInput:
        pass
    else:
        id_hash = cipher.lookup_hash(national_id, "national_id")
        return customer_store.ids_by_hash(uow, id_hash=id_hash)
    try:
        phone = validate_phone(text)
    except BadInput:
        return None
    return customer_store.ids_by_hash(uow, phone_hash=cipher.lookup_hash(phone, "phone"))
