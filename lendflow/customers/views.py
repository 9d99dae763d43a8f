"""How a customer is shown: in clear only to roles allowed to see personal data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.identity import mask_name, mask_national_id, mask_phone
from lendflow.store.personal_data import PersonalDataCipher, customer_row


def opened(row: Mapping[str, Any], cipher: PersonalDataCipher) -> tuple[str, str, str]:
    """A customer row's name, national ID and phone in clear (each bound to the row)."""
    bound = customer_row(row["id_hash"])
    return (
        cipher.decrypt(row["name_enc"], "name", bound),
        cipher.decrypt(row["national_id_enc"], "national_id", bound),
        cipher.decrypt(row["phone_enc"], "phone", bound),
    )


def customer_view(
    row: Mapping[str, Any], cipher: PersonalDataCipher, actor: Actor
) -> dict[str, Any]:
    """The customer as `actor` may see them: in clear only for roles allowed to."""
    name, national_id, phone = opened(row, cipher)
    if not actor.can(Permission.SEE_PERSONAL_DATA):
        name, national_id, phone = mask_name(name), mask_national_id(national_id), mask_phone(phone)
    return {"id": row["id"], "name": name, "national_id": national_id, "phone": phone}


WITHHELD = "(withheld)"
_SEALED_PREFIXES = ("v1:", "v2:")


def open_text(stored: str | None, field: str, row: str, cipher: PersonalDataCipher) -> str | None:
    """Free text a person typed (a note, a ticket's subject), opened. Text stored before
    free text was sealed is still in clear and shown as it is, until `key rotate` seals it."""
    if stored is None or not stored.startswith(_SEALED_PREFIXES):
        return stored
    return cipher.decrypt(stored, field, row)


def text_view(
    stored: str | None,
    field: str,
    row: str,
    cipher: PersonalDataCipher,
    actor: Actor,
    *,
    also: Permission | None = None,
) -> str | None:
    """Free text as `actor` may see it: opened for roles that may see personal data (or
    hold `also`), withheld otherwise, as a name is masked."""
    if stored is None:
        return None
    allowed = actor.can(Permission.SEE_PERSONAL_DATA) or (also is not None and actor.can(also))
    return open_text(stored, field, row, cipher) if allowed else WITHHELD
