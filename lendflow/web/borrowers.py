"""What the lender agreed with a borrower and did to them, over HTTP: the consents given
with an application (and their withdrawal), and the collection contacts, each refused
with the rule it breaks exactly as `lendflow consent` and `lendflow collection` refuse."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path

from lendflow.domain import bounds
from lendflow.domain.errors import BadInput
from lendflow.loans.results import (
    CollectionContact,
    CollectionContactList,
    ConsentList,
    ConsentView,
)
from lendflow.web.auth import Acting, Ws
from lendflow.web.bodies import CollectionContactBody, Dated
from lendflow.web.loans import LoanId, On, business_date, served
from lendflow.web.problems import documented

router = APIRouter(responses=documented(400, 401, 403, 404, 409, 413, 422, 500))
ConsentName = Annotated[
    str, Path(min_length=1, max_length=64, description="credit_check, personal_information, …")
]


@router.get("/loans/{loan_id}/consents", response_model=ConsentList, tags=["loans"])
def consents(loan_id: LoanId, ws: Ws, actor: Acting) -> Any:
    """The consents given with the loan's application: the words' version and SHA-256, the
    channel, the date, and when each was withdrawn."""
    from lendflow.loans.consents import loan_consents

    found = loan_consents(ws, actor, loan_id)
    return served(ConsentList(total=len(found), items=found))


@router.post(
    "/loans/{loan_id}/consents/{name}/withdrawal", response_model=ConsentView, tags=["loans"]
)
def withdraw_consent(
    loan_id: LoanId,
    name: ConsentName,
    ws: Ws,
    actor: Acting,
    body: Dated | None = None,
    on: On = None,
) -> Any:
    """The borrower takes a consent back (`lendflow consent withdraw`): recorded with an
    event; a withdrawn `credit_check` stops any further credit check."""
    from lendflow.loans.consents import withdraw

    return served(withdraw(ws, actor, loan_id, name, business_date(ws, body, on)))


@router.get(
    "/loans/{loan_id}/collection-contacts", response_model=CollectionContactList, tags=["loans"]
)
def collection_contacts(loan_id: LoanId, ws: Ws, actor: Acting) -> Any:
    """Every contact recorded with the borrower about this loan, oldest first."""
    from lendflow.loans.collection import contacts

    found = contacts(ws, actor, loan_id)
    return served(CollectionContactList(total=len(found), items=found))


@router.post(
    "/loans/{loan_id}/collection-contacts",
    status_code=201,
    response_model=CollectionContact,
    tags=["loan actions"],
)
def log_collection_contact(
    loan_id: LoanId, body: CollectionContactBody, ws: Ws, actor: Acting
) -> Any:
    """Record a contact (`lendflow collection log`); one outside the policy's hours, beyond
    its daily limit or with anyone but the borrower is refused with the rule named and
    nothing is recorded."""
    from lendflow.loans.collection import log_contact

    return served(
        log_contact(
            ws, actor, loan_id, body.channel, body.outcome, _local(body.at), body.recipient
        ),
        201,
    )


def _local(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"at must be a local time like 2026-03-02T10:30, got {text!r}") from None
    if moment.tzinfo is not None:
        raise BadInput("at is the local time in Asia/Shanghai: leave the zone out")
    bounds.check_date(moment.date(), field="at")
    return moment
