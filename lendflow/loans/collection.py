"""The collection log: every contact with a borrower about money owed, checked against
the policy's limits before it is recorded (`domain.collection`), and an event of the loan.

The moment of a contact is the collector's local time (Asia/Shanghai) as they give it;
its date is the contact's business date, held to the open business dates like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.business_date import check_horizon
from lendflow.domain.collection import OUTCOMES, check_contact, parse_clock
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.loan import REPAYABLE
from lendflow.loans.records import loan_event
from lendflow.loans.results import CollectionContact
from lendflow.store import collection as store
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


def log_contact(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    channel: str,
    outcome: str,
    at: datetime,
    recipient: str = "borrower",
) -> CollectionContact:
    """Record a contact, or refuse it with the rule it breaks (and record nothing)."""
    actor.require(Permission.SERVE_CUSTOMERS, "log collection contacts")
    if outcome not in OUTCOMES:
        raise BadInput(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    if at.tzinfo is not None:
        raise BadInput("give the contact's local time (Asia/Shanghai) without a zone")
    day = at.date()
    check_horizon(day, ws.today(), ws.policy.business_dates.horizon_days)
    hours = ws.policy.collection_hours
    window = (parse_clock(hours.start, "start"), parse_clock(hours.end, "end"))

    def use_case(uow: UnitOfWork) -> CollectionContact:
        loan = loan_store.get(uow, loan_id, for_update=True)
        if loan["state"] not in REPAYABLE:
            raise Refused(f"loan {loan_id} is {loan['state']}; nothing is owed to collect")
        so_far = store.count_on(uow, loan_id, day)
        check_contact(channel, recipient, at, window, so_far, ws.policy.collection_limits.per_day)
        when = at.strftime("%Y-%m-%dT%H:%M")
        contact_id = store.add(
            uow,
            {
                "loan_id": loan_id,
                "channel": channel,
                "outcome": outcome,
                "recipient": recipient,
                "contacted_at": when,
                "business_date": day,
                "actor": actor.name,
            },
        )
        payload = {"channel": channel, "outcome": outcome, "at": when}
        loan_event(uow, loan, "CollectionContact", actor, day, payload)
        return CollectionContact(
            id=contact_id,
            loan_id=loan_id,
            channel=channel,
            outcome=outcome,
            recipient=recipient,
            contacted_at=when,
            business_date=day,
            actor=actor.name,
        )

    return run_in_transaction(ws.engine, use_case)


def contacts(ws: Workspace, actor: Actor, loan_id: int) -> list[CollectionContact]:
    """A loan's collection contacts, oldest first."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> list[CollectionContact]:
        loan_store.get(uow, loan_id)
        return [
            CollectionContact(**{k: row[k] for k in CollectionContact.model_fields})
            for row in store.of_loan(uow, loan_id)
        ]

    return run_in_transaction(ws.engine, use_case)
