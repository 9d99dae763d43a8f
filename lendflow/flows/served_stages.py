"""Stage runs served by the workspace's own Prefect server process.

A `lendflow stage run` spent most of its time importing Prefect (well over a second on
a 2-core machine) before its flow could start, even with the workspace's server up. That
server's process (`lendflow server start`) has Prefect loaded already and reports to
itself, so while it is up the command hands it the run instead: it checks its own
arguments and input files, posts the run here, and prints the answer exactly as if the
flow had run in its own process, never importing Prefect.

`POST /lendflow/stage-runs` (`servers.STAGE_RUNS_PATH`) takes the command's arguments
as JSON with the server's token (`Authorization: Bearer …`, kept with the server's record
in the workspace's home, readable only by its owner), checks the run as the command does
(the user's right, the stage's order), runs the stage's flow in a thread, and answers
`{"result": …}` (the flow's own result) or `{"error": {"message", "exit_code"}}`: a
lendflow error with the exit code the command line gives it (2 bad input, 1 refused).
Anything else is logged to the server's log and answered 500. The flow's Prefect lines go
to that log too.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import threading
from datetime import date
from typing import Any

from lendflow.flows.asgi import App, Receive, Scope, Send, whole_body
from lendflow.flows.servers import STAGE_RUNS_PATH

log = logging.getLogger("lendflow.served_stages")


class ServedStageRuns:
    """ASGI: `STAGE_RUNS_PATH` is a stage run; every other request goes to Prefect's app."""

    def __init__(self, app: App, token: str, *, warm: bool = True) -> None:
        self.app = app
        self.token = token.encode()
        if warm:
            threading.Thread(target=_warm, name="lendflow-warm", daemon=True).start()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != STAGE_RUNS_PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _answer(send, 405, _error("POST a stage run", 2))
            return
        if not self._authorised(scope):
            await _answer(send, 401, _error("not this server's token", 1))
            return
        body = await whole_body(receive)
        host, port = scope["server"]
        status, answer = await asyncio.to_thread(_run, body, f"http://{host}:{port}/api")
        await _answer(send, status, answer)

    def _authorised(self, scope: Scope) -> bool:
        given = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = given.partition(b" ")
        return bool(self.token) and scheme == b"Bearer" and hmac.compare_digest(token, self.token)


def _run(body: bytes, api_url: str) -> tuple[int, dict[str, Any]]:
    """The stage run the body asks for, as (status, answer)."""
    from lendflow.domain.errors import BadInput, LendflowError

    try:
        try:
            asked = json.loads(body)
            arguments = {
                "code": str(asked["code"]),
                "stage": str(asked["stage"]),
                "user": str(asked["user"]),
                "as_of": date.fromisoformat(asked["as_of"]),
                "inputs": {str(k): str(v) for k, v in dict(asked["inputs"]).items()},
                "samples": bool(asked["samples"]),
            }
        except (ValueError, KeyError, TypeError) as bad:
            raise BadInput(f"not a stage run: {bad}") from None
        result = run_stage(api_url, **arguments)
    except LendflowError as refused:
        return 422, _error(refused.message, refused.exit_code)
    except Exception:  # the server goes on; its log says what happened
        log.exception("a stage run failed")
        return 500, _error("the stage run failed in the Prefect server", 1)
    # as `print_json` writes it: what does not go into JSON as it is goes as its text
    return 200, json.loads(json.dumps({"result": result}, default=str))


def run_stage(
    api_url: str,
    *,
    code: str,
    stage: str,
    user: str,
    as_of: date,
    inputs: dict[str, str],
    samples: bool,
) -> dict[str, Any]:
    """Check the run as `lendflow stage run` does, then run the stage's flow here,
    reporting to this server."""
    from lendflow.domain.errors import Refused
    from lendflow.flows.runtime import batch_run, workspace
    from lendflow.flows.stages import stage_flow
    from lendflow.lifecycle.live_stages import check_runnable

    ws = workspace()
    check_runnable(ws, ws.actor(user), code, stage)
    flow = stage_flow(stage)
    if flow is None:
        raise Refused(f"stage {stage} has no flow in this installation yet")
    with batch_run(api_url):
        return flow(code=code, user=user, as_of=as_of, inputs=inputs, samples=samples)


def _error(message: str, exit_code: int) -> dict[str, Any]:
    return {"error": {"message": message, "exit_code": exit_code}}


async def _answer(send: Send, status: int, answer: dict[str, Any]) -> None:
    body = json.dumps(answer, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _warm() -> None:
    """Load the stage flows and open the workspace while the server starts, so the first
    run served costs what the later ones do."""
    from lendflow.flows.runtime import workspace
    from lendflow.flows.stages import STAGE_FLOWS, stage_flow

    try:
        for stage in STAGE_FLOWS:
            stage_flow(stage)
        if os.environ.get("LENDFLOW_HOME"):
            workspace()
    except Exception:  # a run served later reports the same problem itself
        log.exception("loading the stage flows failed")
