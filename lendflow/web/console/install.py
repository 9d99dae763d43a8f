"""Putting the console into the API's app: its routes, static files, CSRF, security
headers, and HTML error pages for its paths (the API's stay problem documents)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders

from lendflow.domain.errors import LendflowError
from lendflow.web.console.i18n import translator
from lendflow.web.console.render import language, pages
from lendflow.web.console.session import SignInNeeded, login_url
from lendflow.web.problems import log, status_of

STATIC = Path(__file__).resolve().parents[1] / "static"
PREFIX = "/console"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
HEADINGS = {401: "401", 403: "403", 404: "404", 409: "409", 422: "422", 500: "500"}


def install(app: FastAPI) -> None:
    from lendflow.web.console import pages_loans, pages_queue, signin
    from lendflow.web.console.pages_applications import router as applications
    from lendflow.web.console.pages_audit import router as audit_router
    from lendflow.web.console.pages_monitoring import router as monitoring_router
    from lendflow.web.console.pages_products import router as products_router

    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    app.include_router(signin.router)
    app.include_router(pages_queue.router)
    app.include_router(pages_loans.router)
    app.include_router(pages_loans.documents)
    app.include_router(applications)
    app.include_router(products_router)
    app.include_router(monitoring_router)
    app.include_router(audit_router)
    app.add_exception_handler(SignInNeeded, _to_sign_in)
    for error in (LendflowError, Exception):
        app.add_exception_handler(error, _html_for_console(app.exception_handlers[error]))

    app.add_middleware(ConsoleHeaders)  # type: ignore[arg-type]


class ConsoleHeaders:
    """The console's security headers and its `Server-Timing`, as plain ASGI: the API's
    requests pass straight through, paying nothing for the console's pages."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        static = path.startswith(f"{PREFIX}/static")

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Server-Timing"] = f"app;dur={(time.perf_counter() - began) * 1000:.1f}"
                for name, value in SECURITY_HEADERS.items():
                    if name == "Cache-Control" and static:
                        continue
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


def _to_sign_in(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    return RedirectResponse(login_url(exc.next_url), status_code=303)


def _html_for_console(
    api_handler: Callable[[Request, Exception], Any],
) -> Callable[[Request, Exception], Any]:
    """The console's paths get an HTML page for an error; the API's keep their handler."""

    def handle(request: Request, exc: Exception) -> Any:
        if not request.url.path.startswith(PREFIX):
            return api_handler(request, exc)
        t = translator(language(request))
        if isinstance(exc, LendflowError):
            status, message = status_of(exc), exc.message
        else:
            error_id = uuid.uuid4().hex
            log.error("unexpected error %s", error_id, exc_info=exc)
            status, message = 500, f"unexpected error; quote id {error_id}"
        context = {
            "request": request,
            "t": t,
            "lang": language(request),
            "user": None,
            "csrftoken": "",
            "status": status,
            "heading": f"{HEADINGS.get(status, status)} · {t('refused')}",
            "message": message,
        }
        return pages.TemplateResponse(request, "console/error.html.j2", context, status_code=status)

    return handle


def csrf_protected(app: Any, secret: bytes) -> Any:
    """The app behind asgi-csrf for the console's paths (the API authenticates with
    bearer tokens, which a forged cross-site request cannot carry)."""
    from asgi_csrf import asgi_csrf

    from lendflow.web.console.csrf_multipart import keep_multipart_working

    keep_multipart_working()
    return asgi_csrf(
        app,
        signing_secret=secret.hex(),
        skip_if_scope=lambda scope: not scope["path"].startswith(PREFIX),
        always_protect={f"{PREFIX}/login"},
        cookie_path=PREFIX,
    )
