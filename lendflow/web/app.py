"""The API application: one workspace per process, made on startup, and the routers."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from lendflow.flows.servers import stop_temporary_servers
from lendflow.web import problems
from lendflow.workspace.context import Workspace

MAX_BODY = 1024 * 1024
CSRF_PURPOSE = b"lendflow console csrf"
SWITCH_INTERVAL = 0.0002
"""Seconds a thread may hold the GIL while others wait (Python's default is 0.005).

A request thread lets the GIL go on every database call and must win it back to go on;
with the default, a thread woken by its answer waited up to 5 ms behind the event
loop or another request, several times a request: measured here, reads served at a
third of the rate. A server process is I/O-bound, so switching sooner costs little."""
API = "/api/v1"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Refuse a request body over `limit` bytes with 413 before any route reads it.

    The body is read here (at most `limit` + 1 bytes) and handed on, so a client that
    lies in Content-Length or streams chunks is held to the same limit.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem(413, f"the request body is over {self.limit} bytes")
        await response(scope, receive, send)


class ConsoleCsrf:
    """CSRF protection for the console's paths, made on the first request: its signing
    key comes from the workspace secret, which the app opens only when it starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._protected: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/console"):
            await self.app(scope, receive, send)
            return
        if self._protected is None:
            from lendflow.web.console.install import csrf_protected

            ws: Workspace = scope["app"].state.workspace
            self._protected = csrf_protected(self.app, ws.purpose_key(CSRF_PURPOSE))
        await self._protected(scope, receive, send)


async def refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not take is refused (422), as an unknown JSON
    field is: a mistyped filter (`?stat=active`) must not quietly list everything. Only
    on /api/v1: a load balancer may add parameters of its own to `/healthz`.

    Async because it never waits: a plain `def` would cost every request a hop to a
    worker thread."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.scope["path"].startswith(f"{API}/"):
        return
    known = {param.alias for param in route.dependant.query_params}
    for dependency in route.dependant.dependencies:
        known |= {param.alias for param in dependency.query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise problems.RequestProblem(
            f"unknown query parameter {unknown[0]!r}", status=422, field=unknown[0] or "query"
        )


def _open_workspace() -> Workspace:
    from lendflow.bootstrap import open_workspace

    return open_workspace()


def limit_threads(threads: int) -> None:
    """Serve at most `threads` requests of this process at once; the rest wait their turn
    on the event loop.

    A request runs its use case on a worker thread and lets the GIL go at every database
    call. With the thread pool's default of 40, the busy threads of a process spent much of
    their time handing the GIL to each other: measured on 2 cores with 32 clients
    and 2 workers, 40 threads served 180–230 repayments/s and 770–820 reads/s, 4 threads
    300–425 and 940–1,280. Long work (close of business, stage runs) runs in the
    background, so a request holds its thread for milliseconds."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def _warm(ws: Workspace) -> None:
    """Build the workspace's lazy parts once, before requests share it across threads."""
    ws.engine  # noqa: B018
    ws.cipher  # noqa: B018
    ws.directory  # noqa: B018
    ws.policy  # noqa: B018


def create_app(workspace: Workspace | None = None) -> FastAPI:
    """The API app; tests hand in a workspace, a server opens the environment's one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if workspace is None:
            sys.setswitchinterval(SWITCH_INTERVAL)
        ws = workspace if workspace is not None else _open_workspace()
        if workspace is None:
            limit_threads(ws.settings.web_threads)
        _warm(ws)
        app.state.workspace = ws
        try:
            yield
        finally:
            app.state.cob_runs.stop()
            if workspace is None:
                stop_temporary_servers()  # uvicorn ends the process without exit hooks
                ws.close()

    app = FastAPI(
        title="lendflow",
        version="1",
        summary="Microloans: apply, review, decide, disburse, repay, audit.",
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(refuse_unknown_query)],
    )
    problems.install(app)
    from lendflow.web import borrowers, ledger, loans, operations, products

    app.include_router(loans.router, prefix=API)
    app.include_router(borrowers.router, prefix=API)
    app.include_router(products.router, prefix=API)
    app.include_router(operations.router, prefix=API)
    app.include_router(ledger.router, prefix=API)
    app.state.in_flight = loans.InFlight()
    app.state.cob_runs = operations.CobRuns()

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """Whether the server is up and its database answers (no token needed)."""
        ws: Workspace = app.state.workspace
        try:
            ws.reader().close()
        except Exception:
            problems.log.warning("health check: database not reachable", exc_info=True)
            return JSONResponse({"status": "degraded", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "reachable"})

    from lendflow.web.console.install import install as install_console

    install_console(app)
    csrf: Any = ConsoleCsrf
    app.add_middleware(csrf)
    wrapped: Any = BodyLimit
    app.add_middleware(wrapped)
    return app
