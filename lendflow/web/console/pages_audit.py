"""The audit in the console: `audit verify` at the press of a button (auditors and
admins), its result (every problem, or all clear with what was checked), and the event
trail of any loan or product with each link of the chain checked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from lendflow.access.permissions import Actor, Permission
from lendflow.domain import bounds
from lendflow.domain.errors import LendflowError
from lendflow.web.console.common import workspace
from lendflow.web.console.render import render
from lendflow.web.console.session import Staff
from lendflow.web.problems import status_of

router = APIRouter(prefix="/console/audit", include_in_schema=False)


@router.get("")
def audit_page(
    request: Request,
    actor: Staff,
    entity: Annotated[str, Query(pattern="^(loan|product)$")] = "loan",
    ref: Annotated[str, Query(max_length=bounds.MAX_CODE_LENGTH)] = "",
) -> Response:
    """The audit button, and the trail of the loan or product named in the form."""
    from lendflow.loans.audit import event_trail

    context: dict[str, Any] = {"entity": entity, "ref": ref, "trail": None, "report": None}
    status = 200
    if ref.strip():
        try:
            context["trail"] = event_trail(workspace(request), actor, entity, ref.strip())
        except LendflowError as refused:
            context["error"], status = refused.message, status_of(refused)
    return _page(request, actor, context, status)


@router.post("/verify")
def verify(request: Request, actor: Staff) -> Response:
    """Run `audit verify` and show what it found (a read: nothing changes)."""
    from lendflow.loans.audit import verify as verify_books

    report = verify_books(workspace(request), actor)
    context = {"entity": "loan", "ref": "", "trail": None, "report": report}
    return _page(request, actor, context, 200)


def _page(request: Request, actor: Actor, context: dict[str, Any], status: int) -> Response:
    context["may_audit"] = actor.can(Permission.AUDIT)
    return render(request, "console/audit.html.j2", context, actor=actor, status=status)
