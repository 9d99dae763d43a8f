"""Customer service tickets, changed under optimistic locking."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, update

from lendflow.domain.errors import NotFound
from lendflow.store.tables import tickets
from lendflow.store.uow import UnitOfWork

TICKETS = tickets


def add(uow: UnitOfWork, values: Mapping[str, Any]) -> int:
    """Insert a ticket; returns its id."""
    return int(uow.connection.execute(insert(TICKETS).returning(TICKETS.c.id), values).scalar_one())


def seal(uow: UnitOfWork, ticket_id: int, values: Mapping[str, Any]) -> None:
    """Write a new ticket's sealed text, bound to the id the insert gave it."""
    uow.connection.execute(update(TICKETS).where(TICKETS.c.id == ticket_id).values(**values))


def get(uow: UnitOfWork, ticket_id: int) -> dict[str, Any]:
    row = uow.connection.execute(select(TICKETS).where(TICKETS.c.id == ticket_id)).mappings()
    found = row.first()
    if found is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    return dict(found)


def mark_resolved(
    uow: UnitOfWork, ticket: Mapping[str, Any], *, on: date, by: str, resolution: str
) -> bool:
    """Record the resolution and bump the version, if nobody changed the ticket since
    it was read (the version condition is in the UPDATE); False when somebody did."""
    changed = uow.connection.execute(
        update(TICKETS)
        .where(TICKETS.c.id == ticket["id"], TICKETS.c.version == ticket["version"])
        .values(
            resolved_on=on,
            resolved_by=by,
            resolution=resolution,
            version=ticket["version"] + 1,
        )
    ).rowcount
    return bool(changed == 1)


def opened_through(uow: UnitOfWork, as_of: date, product: str | None) -> list[dict[str, Any]]:
    """Tickets opened on or before `as_of` (of one product, if given), oldest first."""
    query = select(TICKETS).where(TICKETS.c.opened_on <= as_of).order_by(TICKETS.c.id)
    if product:
        query = query.where(TICKETS.c.product_code == product)
    return [dict(r) for r in uow.connection.execute(query).mappings()]


def complaints(uow: UnitOfWork, product: str, since: date, until: date) -> int:
    """How many complaints about the product were opened from `since` to `until`."""
    return int(
        uow.connection.execute(
            select(func.count())
            .select_from(TICKETS)
            .where(
                TICKETS.c.product_code == product,
                TICKETS.c.kind == "complaint",
                TICKETS.c.opened_on >= since,
                TICKETS.c.opened_on <= until,
            )
        ).scalar_one()
    )
