"""How a customer is shown: in clear only to roles allowed to see personal data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.identity import mask_name, mask_national_id, mask_phone
from lendflow.store.personal_data import PersonalDataCipher


def customer_view(
    row: Mapping[str, Any], cipher: PersonalDataCipher, actor: Actor
) -> dict[str, Any]:
    """The customer as `actor` may see them: in clear only for roles allowed to."""
    name = cipher.decrypt(row["name_enc"], "name")
    national_id = cipher.decrypt(row["national_id_enc"], "national_id")
    phone = cipher.decrypt(row["phone_enc"], "phone")
    if not actor.can(Permission.SEE_PERSONAL_DATA):
        name, national_id, phone = mask_name(name), mask_national_id(national_id), mask_phone(phone)
    return {"id": row["id"], "name": name, "national_id": national_id, "phone": phone}
