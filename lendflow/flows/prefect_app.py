"""Prefect's server app as lendflow's servers run it: a write the database refused for a
moment is tried again in the server, not two seconds later by the client.

On SQLite, Prefect's server answers 503 when a write finds the database locked: a request
whose transaction read first and then wrote while the server's own services were still
recording the previous run's events (SQLite refuses such a write at once rather than
wait). Prefect's client waits two seconds and sends it again. Measured on a 2-core
machine: a flow run created just after another finished waited those two seconds more
often than not, where the run itself took 0.15 s. The refused transaction was rolled back,
so the server sends the same request to the app again, a few milliseconds later, for up
to `RETRY_FOR` seconds; after that the 503 goes to the client as before, which then
waits as it always did.

Runs in the server's own process (`flows.servers` starts it with uvicorn's `--factory`).
"""

from __future__ import annotations

import asyncio
import os

from lendflow.flows.asgi import App, Message, Receive, Scope, Send, whole_body

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRY_FOR = 1.5
"""Seconds the server keeps trying a refused write before the client gets the 503."""
FIRST_PAUSE = 0.01
LONGEST_PAUSE = 0.2


def create_app() -> App:
    """Prefect's own app (what `prefect server start` serves), its writes retried; in the
    workspace's server (given a token) also the runs it serves (`served_runs`)."""
    from prefect.server.api.server import create_app as prefect_app

    from lendflow.flows.served_runs import ServedRuns
    from lendflow.flows.servers import TOKEN_VARIABLE

    app: App = RetryRefusedWrites(prefect_app())
    token = os.environ.pop(TOKEN_VARIABLE, "")  # not handed on to anything this server starts
    return ServedRuns(app, token) if token else app


class RetryRefusedWrites:
    """ASGI middleware: a write answered 503 is sent to the app again, with its body."""

    def __init__(self, app: App, retry_for: float = RETRY_FOR) -> None:
        self.app = app
        self.retry_for = retry_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        body = await whole_body(receive)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_for
        pause = FIRST_PAUSE
        while True:
            last = loop.time() + pause > deadline
            # each attempt on a fresh copy: routing writes into the scope it is given
            if await self._attempt(dict(scope), _replay(body, receive), send, final=last):
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, *, final: bool) -> bool:
        """Run the app once; False when it answered 503 and another attempt may follow
        (that answer is then dropped, body and all)."""
        refused = False

        async def forward(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                refused = message["status"] == 503 and not final
            if not refused:
                await send(message)

        try:
            await self.app(scope, receive, forward)
        except Exception:
            # Starlette's outermost middleware answers an error through the app's handler
            # (Prefect's: 503 for a locked database) and then raises it again for the
            # server's log: a refusal answered so is tried again, anything else goes on
            if not refused:
                raise
        return not refused


def _replay(body: bytes, receive: Receive) -> Receive:
    """The request's body once, then whatever the connection says next (its disconnect)."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
