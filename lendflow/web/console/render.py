"""Rendering console pages: one Jinja environment, the header every page shows, and a
block alone for htmx (`jinja2-fragments`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2_fragments.fastapi import Jinja2Blocks

from lendflow.access.permissions import Actor
from lendflow.domain.money import format_fen
from lendflow.rendering.filters import inline_svg
from lendflow.rendering.formats import ratio_percent
from lendflow.web.console.i18n import language_of, translator
from lendflow.workspace.context import Workspace

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
pages = Jinja2Blocks(directory=str(TEMPLATES))
pages.env.filters["yuan"] = lambda fen: "-" if fen is None else format_fen(int(fen))
pages.env.filters["ratio"] = ratio_percent
pages.env.filters["svg"] = inline_svg
pages.env.globals["ROLE_NAMES"] = {
    "admin": "管理员 admin",
    "operator": "运营 operator",
    "risk_officer": "风控 risk_officer",
    "auditor": "审计 auditor",
    "product_manager": "产品经理 product_manager",
    "product_committee": "产品委员会 product_committee",
}


def language(request: Request) -> str:
    return language_of(request.cookies.get("lang"))


def csrf_token(request: Request) -> str:
    """The CSRF token a form on this page must send back (asgi-csrf sets its cookie)."""
    make = request.scope.get("csrftoken")
    return str(make()) if make is not None else ""


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    actor: Actor | None = None,
    status: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """A page (or, for an htmx request asking for one, a block of it)."""
    ws: Workspace = request.app.state.workspace
    lang = language(request)
    shown = {
        "request": request,
        "t": translator(lang),
        "lang": lang,
        "user": actor,
        "csrftoken": csrf_token(request),
        "today": ws.today(),
        "last_closed": _last_closed(ws) if actor is not None else None,
        **context,
    }
    if block is None and request.headers.get("HX-Request") and context.get("hx_block"):
        block = str(context["hx_block"])
    response: HTMLResponse = pages.TemplateResponse(
        request, name, shown, status_code=status, block_name=block
    )
    return response


def _last_closed(ws: Workspace) -> date | None:
    from lendflow.close_of_business.sweep import last_closed

    return last_closed(ws)
