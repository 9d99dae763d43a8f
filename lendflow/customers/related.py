"""Related parties: people whose loans count together against the concentration limit
(a borrower with their related parties may owe at most a share of the lender's net
assets). A risk officer records who belongs to which group; people are kept by the
keyed hash of their national ID, never in clear."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from lendflow.access.permissions import Actor, Permission
from lendflow.customers.results import RelatedParty
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.identity import mask_national_id, validate_national_id
from lendflow.store import events
from lendflow.store import related as store
from lendflow.store.personal_data import row_ref
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

GROUP_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_group(group: str) -> str:
    if not GROUP_CODE.fullmatch(group or ""):
        raise BadInput(f"group must be a code of letters, digits, _ . - (got {group!r})")
    return group


def relate(ws: Workspace, actor: Actor, group: str, national_id: str, as_of: date) -> RelatedParty:
    """Put a person in a group of related parties."""
    actor.require(Permission.DECIDE, "record related parties")
    group = check_group(group)
    national_id = validate_national_id(national_id)
    id_hash = ws.cipher.lookup_hash(national_id, "national_id")

    def use_case(uow: UnitOfWork) -> RelatedParty:
        if store.member(uow, group, id_hash):
            raise Refused(f"this person is in related-party group {group} already")
        store.add(
            uow,
            {
                "group_code": group,
                "id_hash": id_hash,
                "national_id_enc": ws.cipher.encrypt(
                    national_id, "national_id", row_ref("related_parties", id_hash)
                ),
                "added_by": actor.name,
                "added_on": as_of,
            },
        )
        events.append(
            uow,
            events.NewEvent(
                entity="related_parties",
                entity_id=group,
                name="RelatedPartyAdded",
                actor=actor.name,
                business_date=as_of,
                payload={"id_hash": id_hash[:16]},
            ),
        )
        return RelatedParty(
            group=group,
            national_id=mask_national_id(national_id),
            added_by=actor.name,
            added_on=as_of,
        )

    return run_in_transaction(ws.engine, use_case)


def group_members(ws: Workspace, actor: Actor, group: str) -> list[RelatedParty]:
    """A group's members, national IDs masked unless the role may see them."""
    actor.require(Permission.READ, "read related parties")
    group = check_group(group)

    def use_case(uow: UnitOfWork) -> list[RelatedParty]:
        out = []
        for row in store.members(uow, group):
            shown = ws.cipher.decrypt(
                row["national_id_enc"], "national_id", row_ref("related_parties", row["id_hash"])
            )
            if not actor.can(Permission.SEE_PERSONAL_DATA):
                shown = mask_national_id(shown)
            out.append(
                RelatedParty(
                    group=group,
                    national_id=shown,
                    added_by=row["added_by"],
                    added_on=row["added_on"],
                )
            )
        return out

    return run_in_transaction(ws.engine, use_case)
