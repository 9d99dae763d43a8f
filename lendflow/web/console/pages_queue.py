"""The work queue (`/console`): what each role has to do, with counts per queue.

Risk officers see referred applications (claim, release, decide: only the claimer
decides, reassigning is an admin's); operators see applications to review and approved
loans waiting for payout; the committee sees gates waiting for a decision; everyone
sees what they claimed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from lendflow.access.permissions import Actor, Permission
from lendflow.domain import bounds
from lendflow.domain.errors import LendflowError
from lendflow.web.console.render import render
from lendflow.web.console.session import Staff, now
from lendflow.workspace.context import Workspace

router = APIRouter(prefix="/console", include_in_schema=False)
SHOWN = 20


@dataclass
class Queue:
    key: str
    count: int
    items: list[Any] = field(default_factory=list)


def _workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def queues(ws: Workspace, actor: Actor) -> list[Queue]:
    """The queues this actor works, each with its count and first items."""
    from lendflow.credit.desk import review_queue
    from lendflow.loans import claims
    from lendflow.loans.views import page_loans

    found: list[Queue] = []
    today = ws.today()
    if actor.can(Permission.DECIDE):
        referred = review_queue(ws, actor, today, None, 200, 0)
        holders = claims.holders(ws, actor, [q.id for q in referred.items])
        rows = [{"app": q, "claimed_by": holders.get(q.id)} for q in referred.items]
        found.append(Queue("referred", referred.total, rows[:SHOWN]))
        mine = [r for r in rows if r["claimed_by"] == actor.name]
        found.append(Queue("mine", len(mine), mine))
    if actor.can(Permission.REVIEW) and actor.can(Permission.APPLY):
        page = page_loans(ws, actor, state="submitted", limit=SHOWN)
        found.append(Queue("to_review", page.total, list(page.items)))
    if actor.can(Permission.DISBURSE):
        page = page_loans(ws, actor, state="approved", limit=SHOWN)
        found.append(Queue("to_disburse", page.total, list(page.items)))
    if actor.can(Permission.DECIDE_GATES):
        gates = _waiting_gates(ws, actor)
        found.append(Queue("gates", len(gates), gates))
    return found


def _waiting_gates(ws: Workspace, actor: Actor) -> list[dict[str, Any]]:
    from lendflow.lifecycle.live_gates import gate_view
    from lendflow.lifecycle.products import list_products

    waiting = []
    for product in list_products(ws, actor):
        view = gate_view(ws, actor, product.code)
        if view.run is not None and view.stage is not None:
            waiting.append(
                {"code": view.code, "stage": view.stage, "run": view.run, "run_by": view.run_by}
            )
        for live in view.live_gates:
            if live.stage != view.stage:
                waiting.append(
                    {"code": live.code, "stage": live.stage, "run": live.run, "run_by": live.run_by}
                )
    return waiting


@router.get("")
def queue_page(request: Request, actor: Staff) -> Response:
    ws = _workspace(request)
    notice = request.query_params.get("done")
    error = request.query_params.get("refused")
    context = {"queues": queues(ws, actor), "notice": notice, "error": error}
    return render(request, "console/queue.html.j2", context, actor=actor)


LoanIdForm = Annotated[int, Form(ge=1, le=bounds.MAX_ID)]


def _back(done: str | None = None, refused: str | None = None) -> Response:
    from urllib.parse import urlencode

    query = urlencode({k: v for k, v in (("done", done), ("refused", refused)) if v})
    return RedirectResponse(f"/console{'?' + query if query else ''}", status_code=303)


@router.post("/queue/claim")
def claim(request: Request, actor: Staff, loan_id: LoanIdForm) -> Response:
    from lendflow.loans import claims

    try:
        claims.claim(_workspace(request), actor, loan_id, now())
    except LendflowError as refused:
        return _back(refused=refused.message)
    return _back(done=f"loan {loan_id} claimed")


@router.post("/queue/unclaim")
def unclaim(request: Request, actor: Staff, loan_id: LoanIdForm) -> Response:
    from lendflow.loans import claims

    try:
        claims.unclaim(_workspace(request), actor, loan_id, now())
    except LendflowError as refused:
        return _back(refused=refused.message)
    return _back(done=f"loan {loan_id} released")


@router.post("/queue/reassign")
def reassign(
    request: Request,
    actor: Staff,
    loan_id: LoanIdForm,
    to: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    from lendflow.loans import claims

    try:
        claims.reassign(_workspace(request), actor, loan_id, to.strip(), now())
    except LendflowError as refused:
        return _back(refused=refused.message)
    return _back(done=f"loan {loan_id} assigned to {to.strip()}")


@router.post("/queue/decide")
def decide(
    request: Request,
    actor: Staff,
    loan_id: LoanIdForm,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str, Form(max_length=2000)] = "",
    reason: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Approve or reject a referred application (the use case holds the claim rule)."""
    from lendflow.domain.bounds import AmountKind
    from lendflow.domain.money import parse_amount
    from lendflow.loans.applications import approve, reject

    ws = _workspace(request)
    try:
        text = bounds.check_note(note, field="note") if note.strip() else None
        if decision == "approve":
            fen = None
            if amount.strip():
                fen = parse_amount(amount.strip(), field="amount")
                bounds.check_amount(fen, AmountKind.LOAN, field="amount")
            approve(ws, actor, loan_id, ws.today(), fen, text)
        else:
            reject(ws, actor, loan_id, ws.today(), reason.strip(), text)
    except LendflowError as refused:
        return _back(refused=refused.message)
    return _back(done=f"loan {loan_id}: {decision}d")
