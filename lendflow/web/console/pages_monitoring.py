"""Monitoring in the console: a product's dashboard as of a chosen date, service tickets
with their deadlines, and close of business (its record, and runs started here).

The dashboard's charts are the monthly review's own (`lifecycle.stages.operate.kpi_charts`),
drawn on the server as inline SVG in the page's language: no script draws anything.
A close-of-business run goes to the server's background runner (`web.operations.CobRuns`,
the API's), keyed by an idempotency key made with the form, so a double click starts it
once; its page follows it while it goes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from lendflow.access.permissions import Actor, Permission
from lendflow.domain import bounds
from lendflow.domain.errors import LendflowError
from lendflow.web.console.common import Notices, back, form_key, workspace
from lendflow.web.console.render import language, render
from lendflow.web.console.session import Staff
from lendflow.web.operations import CobRuns, begin_cob, new_ticket
from lendflow.web.problems import status_of
from lendflow.workspace.context import Workspace

router = APIRouter(prefix="/console", include_in_schema=False)
TICKET_FILTERS = ("all", "open", "breached")
RECORDED_SHOWN = 50
Text = Annotated[str, Form(max_length=bounds.MAX_NOTE_LENGTH)]
OptionalDate = Annotated[str | None, Query(max_length=10)]


def _day(text: str | None, field: str, default: date | None) -> date | None:
    """A date typed in a form (empty: `default`), held to the bounds of every date."""
    return bounds.parse_date(text.strip(), field=field) if text and text.strip() else default


def _chosen_product(ws: Workspace, actor: Actor, code: str | None) -> tuple[str | None, list[Any]]:
    """The product asked for, else the first with a live version, else the first."""
    from lendflow.lifecycle.products import list_products

    products = list_products(ws, actor)
    if code:
        return bounds.check_code(code, field="product"), products
    live = [p.code for p in products if p.live_version is not None]
    return (live or [p.code for p in products] or [None])[0], products


def _charts(kpis: Any, locale: str) -> list[Any]:
    """The review's charts of these figures, drawn in `locale`."""
    from lendflow.lifecycle.stages.operate import kpi_charts
    from lendflow.rendering.reports import draw

    return [draw(chart, "operate", locale) for chart in kpi_charts(kpis.model_dump(mode="json"))]


@router.get("/monitoring")
def monitoring(
    request: Request,
    actor: Staff,
    product: Annotated[str | None, Query(max_length=bounds.MAX_CODE_LENGTH)] = None,
    as_of: OptionalDate = None,
) -> Response:
    """A product's indicators as of a business date: outstanding, PAR, non-performing
    ratio, alerts, month-end series, roll rates and vintages, with charts."""
    from lendflow.monitoring.kpis import product_kpis

    ws = workspace(request)
    shown: dict[str, Any] = {"product": product, "products": [], "as_of": ws.today()}
    status = 200
    try:
        shown["as_of"] = _day(as_of, "as_of", ws.today())
        shown["product"], shown["products"] = _chosen_product(ws, actor, product)
        if shown["product"] is not None:
            kpis = product_kpis(ws, actor, shown["product"], shown["as_of"])
            shown.update(kpis=kpis, charts=_charts(kpis, language(request)))
    except LendflowError as refused:
        shown["error"], status = refused.message, status_of(refused)
    return render(request, "console/monitoring.html.j2", shown, actor=actor, status=status)


@router.get("/tickets")
def tickets(
    request: Request,
    actor: Staff,
    flash: Notices,
    show: Annotated[str, Query(pattern="^(all|open|breached)$")] = "all",
) -> Response:
    """Tickets as seen today, each with its deadline and whether it is breached."""
    from lendflow.monitoring.tickets import CHANNELS, KINDS, list_tickets

    ws = workspace(request)
    found = list_tickets(
        ws, actor, ws.today(), open_only=show == "open", breached_only=show == "breached"
    )
    context = {
        "tickets": found,
        "show": show,
        "filters": TICKET_FILTERS,
        "kinds": KINDS,
        "channels": CHANNELS,
        "may_serve": actor.can(Permission.SERVE_CUSTOMERS),
        "notice": flash.done,
        "error": flash.refused,
    }
    return render(request, "console/tickets.html.j2", context, actor=actor)


@router.post("/tickets")
def open_ticket(
    request: Request,
    actor: Staff,
    kind: Annotated[str, Form(max_length=16)],
    subject: Annotated[str, Form(max_length=bounds.MAX_LINE_LENGTH)],
    channel: Annotated[str, Form(max_length=16)] = "phone",
    details: Text = "",
    loan_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Record a complaint or question (linked to a loan when one is named)."""
    from lendflow.monitoring.tickets import open_ticket as open_new

    ws = workspace(request)
    try:
        loan = bounds.parse_id(loan_id, field="loan") if loan_id.strip() else None
        new = new_ticket(kind, subject, channel, details.strip() or None, loan_id=loan)
        ticket = open_new(ws, actor, new, ws.today())
    except LendflowError as refused:
        return back("/console/tickets", refused=refused.message)
    return back("/console/tickets", done=f"ticket {ticket.id} opened, due {ticket.due_on}")


@router.post("/tickets/{ticket_id}/resolve")
def resolve_ticket(
    request: Request,
    actor: Staff,
    ticket_id: Annotated[int, Path(ge=1, le=bounds.MAX_ID)],
    resolution: Text = "",
) -> Response:
    """Close a ticket with what was done about it."""
    from lendflow.monitoring.tickets import resolve

    ws = workspace(request)
    try:
        text = bounds.check_note(resolution, field="resolution")
        ticket = resolve(ws, actor, ticket_id, text, ws.today())
    except LendflowError as refused:
        return back("/console/tickets", refused=refused.message)
    late = " (after its deadline)" if ticket.breached else ""
    return back("/console/tickets", done=f"ticket {ticket.id} resolved{late}")


def _runs(request: Request) -> CobRuns:
    runs: CobRuns = request.app.state.cob_runs
    return runs


@router.get("/cob")
def cob(request: Request, actor: Staff, flash: Notices) -> Response:
    """Close of business: the runs this server started (with their progress while they
    go) and every run recorded, newest first, with the form to start one."""
    from lendflow.close_of_business.records import recorded_runs
    from lendflow.close_of_business.sweep import last_closed

    ws = workspace(request)
    started = _runs(request).newest()
    context = {
        "started": started,
        "going": any(job.state in ("queued", "running") for job in started),
        "recorded": recorded_runs(ws, actor, 0, RECORDED_SHOWN),
        "may_run": actor.can(Permission.RUN_COB),
        "key": form_key(),
        "suggested": last_closed(ws),
        "notice": flash.done,
        "error": flash.refused,
        "hx_block": "started",
    }
    return render(request, "console/cob.html.j2", context, actor=actor)


@router.post("/cob/runs")
def start_cob(
    request: Request,
    actor: Staff,
    key: Annotated[str, Form(min_length=8, max_length=bounds.MAX_KEY_LENGTH)],
    first: Annotated[str, Form(max_length=10)] = "",
    last: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Close a date or a range in the background; back to the page, which follows it."""
    ws = workspace(request)
    try:
        key = bounds.check_key(key, field="key")
        start, end = _day(first, "from", None), _day(last, "to", None)
        job, replayed = begin_cob(_runs(request), ws, actor, f"console-{key}", start, end)
    except LendflowError as refused:
        return back("/console/cob", refused=refused.message)
    said = "already started" if replayed else "started"
    return back("/console/cob", done=f"close of business {job.first} … {job.last} {said}")
