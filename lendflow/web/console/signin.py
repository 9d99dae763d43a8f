"""Signing in and out of the console, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from lendflow.domain.errors import Unauthenticated
from lendflow.identity.sessions import sign_in, sign_out
from lendflow.web.console.i18n import LANGUAGES
from lendflow.web.console.render import render
from lendflow.web.console.session import COOKIE, cookie_settings, now

router = APIRouter(prefix="/console", include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path only, never another site."""
    if not target or not target.startswith("/console") or target.startswith("//"):
        return "/console"
    return target


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "console/login.html.j2", {"next_url": safe_next(next)})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/console",
) -> Response:
    ws = request.app.state.workspace
    try:
        opened = sign_in(ws, username, password, now())
    except Unauthenticated as refused:
        context = {"next_url": safe_next(next), "username": username, "error": refused.message}
        return render(request, "console/login.html.j2", context, status=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(value=opened.session, **cookie_settings(request))  # type: ignore[arg-type]
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    text = request.cookies.get(COOKIE)
    if text:
        sign_out(request.app.state.workspace, text, now())
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.post("/language")
def switch_language(
    lang: Annotated[str, Form(max_length=8)] = "zh-CN",
    next: Annotated[str, Form(max_length=2000)] = "/console",
) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    chosen = lang if lang in LANGUAGES else "zh-CN"
    response.set_cookie("lang", chosen, max_age=365 * 86400, samesite="lax", path="/console")
    return response
