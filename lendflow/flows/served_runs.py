"""Stage runs and batch loan flows served by the workspace's own Prefect server process.

A `lendflow stage run` spent most of its time importing Prefect (over 3 s of 4.3 s on a
slow day of a 2-core machine) before its flow could start, even with the workspace's
server up; so did `lendflow run review-applications|disburse-approved|post-repayments`.
That server's process (`lendflow server start`) has Prefect loaded already and reports to
itself, so while it is up the command hands it the run instead: it checks its own
arguments and files, posts the run here, and prints the answer as if the flow had run in
its own process, never importing Prefect.

`POST /lendflow/runs` (`servers.SERVED_RUNS_PATH`) takes `{"flow": name, "arguments":
{…}}` as JSON with the server's token (`Authorization: Bearer …`, kept with the server's
record in the workspace's home, readable only by its owner), checks the run as the
command does (the user's right; a stage's order), runs the flow in a thread, and answers
`{"result": …}` (the flow's own result, as `print_json` would write it) or `{"error":
{"message", "exit_code"}}`: a lendflow error with the exit code the command line gives it
(2 bad input, 1 refused). Anything else is logged to the server's log and answered 500.
The flows' Prefect lines go to that log too.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from lendflow.flows.asgi import App, Receive, Scope, Send, whole_body
from lendflow.flows.servers import SERVED_RUNS_PATH, served_by_lendflow

log = logging.getLogger("lendflow.served_runs")
Arguments = dict[str, Any]


class ServedRuns:
    """ASGI: `SERVED_RUNS_PATH` is a run; every other request goes to Prefect's app."""

    def __init__(self, app: App, token: str, *, warm: bool = True) -> None:
        self.app = app
        self.token = token.encode()
        if warm:
            threading.Thread(target=_warm, name="lendflow-warm", daemon=True).start()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != SERVED_RUNS_PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _answer(send, 405, _error("POST a run", 2))
            return
        if not self._authorised(scope):
            await _answer(send, 401, _error("not this server's token", 1))
            return
        body = await whole_body(receive)
        host, port = scope["server"]
        api_url = f"http://{host}:{port}/api"
        served_by_lendflow(api_url)  # its own app: the runs it serves may share a client
        status, answer = await asyncio.to_thread(_run, body, api_url)
        await _answer(send, status, answer)

    def _authorised(self, scope: Scope) -> bool:
        given = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = given.partition(b" ")
        return bool(self.token) and scheme == b"Bearer" and hmac.compare_digest(token, self.token)


def _run(body: bytes, api_url: str) -> tuple[int, dict[str, Any]]:
    """The run the body asks for, as (status, answer)."""
    from lendflow.domain.errors import BadInput, LendflowError

    try:
        try:
            asked = json.loads(body)
            serve = SERVED[str(asked["flow"])]
            arguments = dict(asked["arguments"])
        except (ValueError, KeyError, TypeError) as bad:
            raise BadInput(f"not a run this server serves: {bad}") from None
        result = serve(api_url, arguments)
    except LendflowError as refused:
        return 422, _error(refused.message, refused.exit_code)
    except Exception:  # the server goes on; its log says what happened
        log.exception("a served run failed")
        return 500, _error("the run failed in the workspace's server", 1)
    # as `print_json` writes it: what does not go into JSON as it is goes as its text
    return 200, json.loads(json.dumps({"result": result}, default=str))


def run_stage(api_url: str, arguments: Arguments) -> dict[str, Any]:
    """Check a stage run as `lendflow stage run` does, then run the stage's flow here,
    reporting to this server."""
    from lendflow.flows.runtime import workspace
    from lendflow.flows.stages import run_stage_flow
    from lendflow.lifecycle.live_stages import check_runnable

    code, stage, user = _text(arguments, "code"), _text(arguments, "stage"), _user(arguments)
    ws = workspace()
    check_runnable(ws, ws.actor(user), code, stage)
    inputs = {str(k): str(v) for k, v in dict(arguments.get("inputs") or {}).items()}
    return run_stage_flow(
        stage,
        code=code,
        user=user,
        as_of=_date(arguments),
        inputs=inputs,
        samples=bool(arguments.get("samples")),
        api_url=api_url,
    )


def _batch(name: str) -> Callable[[str, Arguments], dict[str, Any]]:
    """A batch loan flow of `lendflow run` taking (business date, user, chunk size)."""

    def serve(api_url: str, arguments: Arguments) -> dict[str, Any]:
        from lendflow.flows import loans
        from lendflow.flows.runtime import batch_run

        user = _allowed(name, arguments)
        with batch_run(api_url):
            flow = getattr(loans, name)
            return dict(flow(_date(arguments), user, _count(arguments, "chunk_size")))

    return serve


def _post_repayments(api_url: str, arguments: Arguments) -> dict[str, Any]:
    from lendflow.domain.errors import BadInput
    from lendflow.flows import loans
    from lendflow.flows.runtime import batch_run
    from lendflow.loans.repayment_files import check_channel

    errors, channel = arguments.get("errors"), arguments.get("channel")
    if not isinstance(errors, str | None) or not isinstance(channel, str | None):
        raise BadInput("not a run this server serves: errors and channel must be text")
    channel = check_channel(channel)
    user = _allowed("post_repayments", arguments)
    with batch_run(api_url):
        return loans.post_repayments(
            Path(_text(arguments, "file")),
            user,
            _date(arguments),
            _count(arguments, "chunk_size"),
            channel,
            Path(errors) if errors else None,
            _count(arguments, "max_rows"),
            _count(arguments, "max_bytes"),
        )


SERVED: dict[str, Callable[[str, Arguments], dict[str, Any]]] = {
    "stage": run_stage,
    "review_applications": _batch("review_applications"),
    "disburse_approved": _batch("disburse_approved"),
    "post_repayments": _post_repayments,
}
"""The runs the server takes: a stage, and the batch loan flows of `lendflow run`."""


def _allowed(flow_name: str, arguments: Arguments) -> str:
    """The acting user, refused at once without the flow's permission (as the command
    does before any flow starts)."""
    from lendflow.flows.permissions import BATCH_PERMISSIONS
    from lendflow.flows.runtime import workspace

    user = _user(arguments)
    workspace().actor(user).require(*BATCH_PERMISSIONS[flow_name])
    return user


def _text(arguments: Arguments, name: str) -> str:
    from lendflow.domain.errors import BadInput

    value = arguments.get(name)
    if not isinstance(value, str) or not value:
        raise BadInput(f"not a run this server serves: {name} is missing")
    return value


def _user(arguments: Arguments) -> str:
    return _text(arguments, "user")


def _date(arguments: Arguments) -> date:
    from lendflow.domain.errors import BadInput

    try:
        return date.fromisoformat(_text(arguments, "as_of"))
    except ValueError:
        raise BadInput(f"not a business date: {arguments['as_of']!r}") from None


def _count(arguments: Arguments, name: str) -> int:
    from lendflow.domain.errors import BadInput

    value = arguments.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadInput(f"not a run this server serves: {name} must be a whole number")
    return value


def _error(message: str, exit_code: int) -> dict[str, Any]:
    return {"error": {"message": message, "exit_code": exit_code}}


async def _answer(send: Send, status: int, answer: dict[str, Any]) -> None:
    body = json.dumps(answer, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _warm() -> None:
    """Load the flows and open the workspace while the server starts, so the first run
    served costs what the later ones do."""
    from lendflow.flows import loans  # noqa: F401 - loaded for what follows, not used here
    from lendflow.flows.runtime import workspace
    from lendflow.flows.stages import STAGE_FLOWS, stage_flow

    try:
        for stage in STAGE_FLOWS:
            stage_flow(stage)
        if os.environ.get("LENDFLOW_HOME"):
            workspace()
    except Exception:  # a run served later reports the same problem itself
        log.exception("loading the flows failed")
