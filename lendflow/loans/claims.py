"""Claims on referred applications: a risk officer takes one from the queue, and only
they decide it while they hold it (a second officer deciding the same file at the same
time would otherwise find their work undone or doubled). An admin may hand a claim to
another officer; the holder may give it back. A decision ends the claim.

An unclaimed application may still be decided (the command line and the API decide
without claiming); a claim only keeps others off it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.errors import Refused
from lendflow.domain.statuses import LoanStatus
from lendflow.loans.records import loan_event
from lendflow.loans.results import Claim
from lendflow.store import claims as store
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

APPLICATION = "application"


def claim(ws: Workspace, actor: Actor, loan_id: int, now: datetime) -> Claim:
    """Take a referred application for oneself."""
    actor.require(Permission.DECIDE, "claim applications")

    def use_case(uow: UnitOfWork) -> Claim:
        loan = _under_review(uow, loan_id)
        held = store.holder(uow, APPLICATION, loan_id)
        if held is not None:
            who = held["claimed_by"]
            mine = who == actor.name
            raise Refused(
                f"loan {loan_id} is claimed by {'you' if mine else who} already"
                + ("" if mine else "; an admin can reassign it")
            )
        store.add(uow, APPLICATION, loan_id, actor.name, now)
        loan_event(uow, loan, "ApplicationClaimed", actor, ws.today(), {"by": actor.name})
        return Claim(loan_id=loan_id, claimed_by=actor.name, claimed_at=now)

    return run_in_transaction(ws.engine, use_case)


def unclaim(ws: Workspace, actor: Actor, loan_id: int, now: datetime) -> None:
    """Give a claimed application back to the queue (its holder, or an admin)."""
    actor.require(Permission.DECIDE, "release applications")

    def use_case(uow: UnitOfWork) -> None:
        loan = _under_review(uow, loan_id)
        held = store.holder(uow, APPLICATION, loan_id)
        if held is None:
            raise Refused(f"loan {loan_id} is not claimed")
        if held["claimed_by"] != actor.name and not actor.can(Permission.MANAGE_USERS):
            raise Refused(
                f"loan {loan_id} is claimed by {held['claimed_by']};"
                " only they or an admin may release it"
            )
        store.remove(uow, APPLICATION, loan_id)
        was = {"was": held["claimed_by"]}
        loan_event(uow, loan, "ApplicationReleased", actor, ws.today(), was)

    run_in_transaction(ws.engine, use_case)


def reassign(ws: Workspace, actor: Actor, loan_id: int, to: str, now: datetime) -> Claim:
    """Hand a referred application to another risk officer (admin only)."""
    actor.require(Permission.MANAGE_USERS, "reassign applications")
    officer = ws.actor(to)
    if not officer.can(Permission.DECIDE):
        raise Refused(f"user {to} may not decide applications")

    def use_case(uow: UnitOfWork) -> Claim:
        loan = _under_review(uow, loan_id)
        held = store.holder(uow, APPLICATION, loan_id)
        if held is None:
            store.add(uow, APPLICATION, loan_id, to, now)
        else:
            store.move(uow, APPLICATION, loan_id, to, now)
        payload = {"to": to, "was": held["claimed_by"] if held else None}
        loan_event(uow, loan, "ApplicationReassigned", actor, ws.today(), payload)
        return Claim(loan_id=loan_id, claimed_by=to, claimed_at=now)

    return run_in_transaction(ws.engine, use_case)


def holders(ws: Workspace, actor: Actor, loan_ids: list[int]) -> dict[int, str]:
    """Who holds each of these applications that is claimed."""
    actor.require(Permission.READ, "read the review queue")
    return run_in_transaction(ws.engine, lambda uow: store.holders(uow, APPLICATION, loan_ids))


def claimed_by(ws: Workspace, actor: Actor, user: str) -> list[int]:
    """The applications a user holds, oldest claim first."""
    actor.require(Permission.READ, "read the review queue")
    return run_in_transaction(ws.engine, lambda uow: store.claimed_by(uow, APPLICATION, user))


def check_decider(uow: UnitOfWork, loan_id: int, actor: Actor) -> None:
    """Refuse a decision on an application another officer holds; a decision by the
    holder (or on an unclaimed one) ends the claim. Runs in the deciding transaction."""
    held = store.holder(uow, APPLICATION, loan_id)
    if held is None:
        return
    if held["claimed_by"] != actor.name:
        raise Refused(
            f"loan {loan_id} is claimed by {held['claimed_by']}; only they decide it"
            " (an admin can reassign it)"
        )
    store.remove(uow, APPLICATION, loan_id)


def _under_review(uow: UnitOfWork, loan_id: int) -> dict[str, Any]:
    loan = loan_store.get(uow, loan_id, for_update=True)
    if loan["state"] != LoanStatus.UNDER_REVIEW.value:
        raise Refused(
            f"loan {loan_id} is {loan['state']}; only applications under review are claimed"
        )
    return loan
