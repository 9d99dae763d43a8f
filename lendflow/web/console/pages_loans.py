"""Loans in the console: the list with filters and search, the loan page with its tabs,
and the actions the loan machine and the user's role allow.

Money moves (disburse, repay) go through a confirmation page that restates the amount,
the loan and the value date; the form carries an idempotency key made when it was
rendered, so a double click, a refresh or a second tab posts the same key and the money
moves once (the use case replays the first answer).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from lendflow.access.permissions import Actor, Permission
from lendflow.domain import bounds
from lendflow.domain.bounds import AmountKind
from lendflow.domain.errors import BadInput, LendflowError
from lendflow.domain.identity import mask_national_id, mask_phone
from lendflow.domain.loan import REPAYABLE
from lendflow.domain.money import format_fen, parse_amount
from lendflow.web.console.render import render
from lendflow.web.console.session import Staff
from lendflow.workspace.context import Workspace

router = APIRouter(prefix="/console/loans", include_in_schema=False)
PAGE = 25
TABS = ("schedule", "transactions", "events", "decision", "documents", "tickets")
STATES = (
    "submitted", "under_review", "approved", "rejected", "withdrawn", "expired", "active",
    "overdue", "closed", "written_off",
)  # fmt: skip
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
LoanId = Annotated[int, Path(ge=1, le=bounds.MAX_ID)]
Key = Annotated[str, Form(min_length=8, max_length=bounds.MAX_KEY_LENGTH)]


def _ws(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


@router.get("")
def loan_list(
    request: Request,
    actor: Staff,
    state: Annotated[str | None, Query(max_length=32)] = None,
    product: Annotated[str | None, Query(max_length=64)] = None,
    bucket: Annotated[str | None, Query(max_length=16)] = None,
    dpd_min: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    dpd_max: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
    offset: Annotated[int, Query(ge=0, le=bounds.MAX_ID)] = 0,
) -> Response:
    """Loans by id, a page at a time; `q` finds a loan by id or a borrower's loans by
    national ID or mobile number (through the keyed hashes)."""
    from lendflow.loans.views import customers_named_by, page_loans

    ws = _ws(request)
    filters = {
        "state": state or None,
        "product": product or None,
        "bucket": bucket or None,
        "dpd_min": dpd_min,
        "dpd_max": dpd_max,
    }
    customer_ids = None
    error = None
    text = (q or "").strip()
    if text.isdigit() and len(text) <= 10:
        return RedirectResponse(f"/console/loans/{int(text)}", status_code=303)
    if text:
        try:
            customer_ids = customers_named_by(ws, actor, text)
        except BadInput as bad:
            error, customer_ids = bad.message, []
    page = page_loans(ws, actor, customer_ids=customer_ids, offset=offset, limit=PAGE, **filters)
    shown = {k: v for k, v in {**filters, "q": text or None}.items() if v not in (None, "")}
    context = {
        "page": page,
        "filters": filters,
        "q": text,
        "offset": offset,
        "limit": PAGE,
        "states": STATES,
        "buckets": BUCKETS,
        "query": urlencode(shown),
        "error": error,
        "hx_block": "results",
    }
    return render(request, "console/loans.html.j2", context, actor=actor)


def _actions(actor: Actor, state: str) -> list[str]:
    """What this user may do to a loan in this state: the machine's triggers their role
    allows, and a repayment where one can be posted."""
    from lendflow.states.machine import machine

    loan_machine = machine("loan")
    offered = []
    for trigger, permission in (
        ("start_review", Permission.REVIEW),
        ("approve", Permission.DECIDE),
        ("reject", Permission.DECIDE),
        ("withdraw", Permission.WITHDRAW),
        ("disburse", Permission.DISBURSE),
    ):
        allowed = trigger in loan_machine.definition.triggers and actor.can(permission)
        if allowed and state in loan_machine.definition.sources(trigger):
            offered.append(trigger)
    if actor.can(Permission.REPAY) and state in REPAYABLE:
        offered.append("repay")
    return offered


def _tab(ws: Workspace, actor: Actor, loan_id: int, tab: str, detail: Any) -> Any:
    if tab == "schedule":
        from lendflow.loans.views import schedule

        return schedule(ws, actor, loan_id) if detail.disbursed_on else None
    if tab == "transactions":
        from lendflow.loans.views import loan_transactions

        return loan_transactions(ws, actor, loan_id)
    if tab == "events":
        from lendflow.loans.views import events_verified, loan_events

        return {
            "events": loan_events(ws, actor, loan_id),
            "held": events_verified(ws, actor, loan_id),
        }
    if tab == "documents":
        from lendflow.documents.issuing import list_documents

        return list_documents(ws, actor, loan_id)
    if tab == "tickets":
        from lendflow.monitoring.tickets import list_tickets

        return [t for t in list_tickets(ws, actor, ws.today()) if t.loan_id == loan_id]
    return detail.credit_decisions


def _masked(text: str, mask: Any) -> str:
    """Masked for the page even for roles that may see it in full (they ask to reveal)."""
    return text if "*" in text else str(mask(text))


def loan_page(
    request: Request,
    actor: Actor,
    loan_id: int,
    tab: str = "schedule",
    *,
    revealed: dict[str, str] | None = None,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    from lendflow.loans.show import show

    ws = _ws(request)
    if tab not in TABS:
        raise BadInput(f"tab must be one of {', '.join(TABS)}")
    detail = show(ws, actor, loan_id, ws.today())
    customer = detail.customer
    shown_customer = revealed or {
        "name": customer.name,
        "national_id": _masked(customer.national_id, mask_national_id),
        "phone": _masked(customer.phone, mask_phone),
    }
    context = {
        "loan": detail,
        "customer": shown_customer,
        "may_reveal": actor.can(Permission.SEE_PERSONAL_DATA) and not revealed,
        "tab": tab,
        "tabs": TABS,
        "content": _tab(ws, actor, loan_id, tab, detail),
        "actions": _actions(actor, detail.status.value),
        "key": secrets.token_urlsafe(16),
        "business_date": ws.today(),
        "notice": notice or request.query_params.get("done"),
        "error": error or request.query_params.get("refused"),
        "hx_block": "tab",
    }
    return render(request, "console/loan.html.j2", context, actor=actor, status=status)


@router.get("/{loan_id}")
def show_loan(
    request: Request,
    actor: Staff,
    loan_id: LoanId,
    tab: Annotated[str, Query(max_length=16)] = "schedule",
) -> Response:
    return loan_page(request, actor, loan_id, tab)


@router.post("/{loan_id}/reveal")
def reveal(request: Request, actor: Staff, loan_id: LoanId) -> Response:
    """Show the borrower's national ID and phone in full: recorded as an event."""
    from lendflow.loans.views import reveal_customer

    shown = reveal_customer(_ws(request), actor, loan_id)
    return loan_page(request, actor, loan_id, revealed=shown)


def _back(loan_id: int, done: str | None = None, refused: str | None = None) -> Response:
    query = urlencode({k: v for k, v in (("done", done), ("refused", refused)) if v})
    return RedirectResponse(f"/console/loans/{loan_id}{'?' + query if query else ''}", 303)


@router.post("/{loan_id}/review")
def review(request: Request, actor: Staff, loan_id: LoanId) -> Response:
    from lendflow.loans.applications import start_review

    ws = _ws(request)
    try:
        result = start_review(ws, actor, loan_id, ws.today())
    except LendflowError as refused:
        return _back(loan_id, refused=refused.message)
    return _back(loan_id, done=f"loan {loan_id} is {result.status.value}")


@router.post("/{loan_id}/withdraw")
def withdraw(
    request: Request,
    actor: Staff,
    loan_id: LoanId,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    from lendflow.loans.applications import withdraw as withdraw_loan

    ws = _ws(request)
    try:
        text = bounds.check_note(note, field="note") if note.strip() else None
        withdraw_loan(ws, actor, loan_id, ws.today(), text)
    except LendflowError as refused:
        return _back(loan_id, refused=refused.message)
    return _back(loan_id, done=f"loan {loan_id} withdrawn")


def _confirmation(
    request: Request, actor: Actor, loan_id: int, action: str, amount: int | None, key: str
) -> Response:
    from lendflow.loans.show import show

    ws = _ws(request)
    detail = show(ws, actor, loan_id, ws.today())
    context = {
        "loan": detail,
        "action": action,
        "amount": amount if amount is not None else detail.principal,
        "amount_text": format_fen(amount if amount is not None else detail.principal),
        "value_date": ws.today(),
        "key": key,
    }
    return render(request, "console/confirm.html.j2", context, actor=actor)


@router.post("/{loan_id}/repayments")
def repay(
    request: Request,
    actor: Staff,
    loan_id: LoanId,
    key: Key,
    amount: Annotated[str, Form(max_length=20)] = "",
    step: Annotated[str, Form(pattern="^(review|confirm)$")] = "review",
) -> Response:
    """Post a repayment in two steps: review (restated for confirmation), then confirm."""
    from lendflow.loans.repayments import repay as repay_loan

    ws = _ws(request)
    try:
        fen = bounds.check_amount(
            parse_amount(amount.strip(), field="amount"), AmountKind.REPAYMENT, field="amount"
        )
        key = bounds.check_key(key, field="key")
    except LendflowError as bad:
        return loan_page(request, actor, loan_id, error=bad.message, status=422)
    if step == "review":
        return _confirmation(request, actor, loan_id, "repay", fen, key)
    try:
        result = repay_loan(ws, actor, loan_id, fen, ws.today(), f"console-{key}")
    except LendflowError as refused:
        return _back(loan_id, refused=refused.message)
    said = "replayed: already posted" if result.replayed else "posted"
    return _back(loan_id, done=f"repayment of {format_fen(fen)} {said}")


@router.post("/{loan_id}/disburse")
def disburse(
    request: Request,
    actor: Staff,
    loan_id: LoanId,
    key: Key,
    step: Annotated[str, Form(pattern="^(review|confirm)$")] = "review",
) -> Response:
    """Pay out an approved loan in two steps: review, then confirm."""
    from lendflow.loans.disbursement import disburse as disburse_loan

    ws = _ws(request)
    try:
        key = bounds.check_key(key, field="key")
    except LendflowError as bad:
        return loan_page(request, actor, loan_id, error=bad.message, status=422)
    if step == "review":
        return _confirmation(request, actor, loan_id, "disburse", None, key)
    try:
        result = disburse_loan(ws, actor, loan_id, ws.today(), f"console-{key}")
    except LendflowError as refused:
        return _back(loan_id, refused=refused.message)
    said = "replayed: already paid out" if result.replayed else "paid out"
    return _back(loan_id, done=f"loan {loan_id} {said}")


documents = APIRouter(prefix="/console/documents", include_in_schema=False)


@documents.get("/{document_id}")
def download(request: Request, actor: Staff, document_id: LoanId) -> Response:
    """A document exactly as issued (its bytes and media type), with its SHA-256 as ETag."""
    from lendflow.documents.issuing import stored_content

    issued, content = stored_content(_ws(request), actor, document_id)
    headers = {
        "ETag": f'"{issued.sha256}"',
        "Content-Disposition": f'attachment; filename="{issued.kind}-{issued.id}"',
    }
    return Response(content, media_type=issued.media_type, headers=headers)
