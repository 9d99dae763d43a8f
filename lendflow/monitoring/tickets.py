"""Customer service tickets: complaints and questions with a service-level deadline.

A ticket's deadline is fixed when it is opened (policy service levels, in
calendar days), so changing the policy never moves a promise already made. A
ticket breaches when it is resolved after its deadline, or is still open past
it. What the customer said may hold personal data and is encrypted like it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from lendflow.access.permissions import Actor, Permission
from lendflow.customers.views import text_view
from lendflow.domain.errors import BadInput, NotFound, Refused
from lendflow.monitoring.results import Ticket
from lendflow.store import customers as customer_store
from lendflow.store import events
from lendflow.store import loans as loan_store
from lendflow.store import tickets as ticket_store
from lendflow.store.personal_data import row_ref
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

Kind = Literal["complaint", "question"]
KINDS = ("complaint", "question")
CHANNELS = ("phone", "app", "wechat", "email", "branch", "regulator")
MAX_SUBJECT = 200


@dataclass(frozen=True)
class NewTicket:
    kind: str
    subject: str
    channel: str = "phone"
    details: str | None = None
    loan_id: int | None = None
    customer_id: int | None = None
    product: str | None = None

    def check(self) -> None:
        if self.kind not in KINDS:
            raise BadInput(f"ticket kind must be complaint or question, got {self.kind!r}")
        if self.channel not in CHANNELS:
            raise BadInput(f"channel must be one of {', '.join(CHANNELS)}, got {self.channel!r}")
        subject = self.subject.strip()
        if not subject:
            raise BadInput("a ticket needs a subject")
        if len(subject) > MAX_SUBJECT:
            raise BadInput(f"subject is {len(subject)} characters; at most {MAX_SUBJECT}")


def open_ticket(ws: Workspace, actor: Actor, new: NewTicket, as_of: date) -> Ticket:
    """Record a complaint or question, linked to a loan or customer when given."""
    actor.require(Permission.SERVE_CUSTOMERS, "open service tickets")
    new.check()
    days = getattr(ws.policy.service_levels, new.kind)

    def use_case(uow: UnitOfWork) -> Ticket:
        customer_id, product = new.customer_id, new.product
        if new.loan_id is not None:
            loan = loan_store.get(uow, new.loan_id)
            if customer_id is not None and customer_id != loan["customer_id"]:
                raise BadInput(f"loan {new.loan_id} is not customer {customer_id}'s")
            customer_id, product = loan["customer_id"], loan["product_code"]
        elif customer_id is not None and not customer_store.exists(uow, customer_id):
            raise NotFound(f"customer {customer_id} does not exist")
        values = {
            "kind": new.kind,
            "product_code": product,
            "customer_id": customer_id,
            "loan_id": new.loan_id,
            "channel": new.channel,
            "subject": "",  # sealed below, bound to the ticket's id once it has one
            "opened_on": as_of,
            "due_on": as_of + timedelta(days=days),
            "opened_by": actor.name,
        }
        ticket_id = ticket_store.add(uow, values)
        bound = ticket_row(ticket_id)
        sealed = {
            "subject": ws.cipher.encrypt(new.subject.strip(), "subject", bound),
            "details_enc": ws.cipher.encrypt(new.details, "ticket", bound) if new.details else None,
        }
        ticket_store.seal(uow, ticket_id, sealed)
        _event(uow, ticket_id, "TicketOpened", actor, as_of, new.kind, customer_id)
        return _get(uow, ws, actor, ticket_id, as_of)

    return run_in_transaction(ws.engine, use_case)


def resolve(ws: Workspace, actor: Actor, ticket_id: int, resolution: str, as_of: date) -> Ticket:
    """Close a ticket with what was done about it."""
    actor.require(Permission.SERVE_CUSTOMERS, "resolve service tickets")
    if not resolution.strip():
        raise BadInput("say how the ticket was resolved (--resolution)")

    def use_case(uow: UnitOfWork) -> Ticket:
        row = ticket_store.get(uow, ticket_id)
        if row["resolved_on"] is not None:
            raise Refused(f"ticket {ticket_id} was resolved on {row['resolved_on']}")
        if as_of < row["opened_on"]:
            raise BadInput(f"business date {as_of} is before the ticket was opened")
        written = ticket_store.mark_resolved(
            uow,
            row,
            on=as_of,
            by=actor.name,
            resolution=ws.cipher.encrypt(resolution.strip(), "resolution", ticket_row(ticket_id)),
        )
        if not written:
            raise Refused(f"ticket {ticket_id} was changed by someone else; try again")
        _event(uow, ticket_id, "TicketResolved", actor, as_of, row["kind"], row["customer_id"])
        return _get(uow, ws, actor, ticket_id, as_of)

    return run_in_transaction(ws.engine, use_case)


def list_tickets(
    ws: Workspace,
    actor: Actor,
    as_of: date,
    *,
    open_only: bool = False,
    breached_only: bool = False,
    product: str | None = None,
) -> list[Ticket]:
    """Tickets oldest first, each with its deadline and whether it is breached on `as_of`."""
    actor.require(Permission.READ, "read service tickets")

    def use_case(uow: UnitOfWork) -> list[Ticket]:
        rows = ticket_store.opened_through(uow, as_of, product)
        shown = [_view(ws, actor, r, as_of) for r in rows]
        if open_only:
            shown = [t for t in shown if t.state == "open"]
        if breached_only:
            shown = [t for t in shown if t.breached]
        return shown

    return run_in_transaction(ws.engine, use_case)


def breached(row: dict[str, Any], as_of: date) -> bool:
    """Resolved late, or still open after the deadline (as seen on `as_of`)."""
    resolved = row["resolved_on"]
    if resolved is not None and resolved <= as_of:
        return resolved > row["due_on"]
    return as_of > row["due_on"]


def _view(ws: Workspace, actor: Actor, row: dict[str, Any], as_of: date) -> Ticket:
    resolved = row["resolved_on"] if row["resolved_on"] and row["resolved_on"] <= as_of else None
    bound = ticket_row(row["id"])

    def shown(column: str, field: str) -> str | None:
        return text_view(
            row[column], field, bound, ws.cipher, actor, also=Permission.SERVE_CUSTOMERS
        )

    return Ticket(
        id=row["id"],
        kind=row["kind"],
        state="resolved" if resolved else "open",
        product=row["product_code"],
        customer_id=row["customer_id"],
        loan_id=row["loan_id"],
        channel=row["channel"],
        subject=shown("subject", "subject") or "",
        details=shown("details_enc", "ticket"),
        opened_on=row["opened_on"],
        due_on=row["due_on"],
        resolved_on=resolved,
        resolution=shown("resolution", "resolution") if resolved else None,
        breached=breached(row, as_of),
        days_open=((resolved or as_of) - row["opened_on"]).days,
    )


def _get(uow: UnitOfWork, ws: Workspace, actor: Actor, ticket_id: int, as_of: date) -> Ticket:
    return _view(ws, actor, ticket_store.get(uow, ticket_id), as_of)


def _event(
    uow: UnitOfWork,
    ticket_id: int,
    name: str,
    actor: Actor,
    as_of: date,
    kind: str,
    customer_id: int | None,
) -> None:
    events.append(
        uow,
        events.NewEvent(
            entity="ticket",
            entity_id=str(ticket_id),
            name=name,
            actor=actor.name,
            business_date=as_of,
            payload={"kind": kind, "customer_id": customer_id},
        ),
    )


def ticket_row(ticket_id: int) -> str:
    """What a ticket's sealed text is bound to: its own row."""
    return row_ref("tickets", ticket_id)
