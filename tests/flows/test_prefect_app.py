"""lendflow's Prefect servers try a write the database refused (503) again in the server,
with the same body, instead of leaving the client to wait two seconds
(`lendflow.flows.prefect_app`)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lendflow.flows.prefect_app import RetryRefusedWrites

Message = dict[str, Any]


class FlakyApp:
    """Answers 503 (as Prefect does for a locked SQLite database) `refusals` times, then
    201 with the body it was sent; like Starlette's outermost middleware, it raises the
    error again after answering it when `raises`."""

    def __init__(self, refusals: int, *, raises: bool = False) -> None:
        self.refusals = refusals
        self.raises = raises
        self.bodies: list[bytes] = []
        self.paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        scope["path"] = "/routed" + scope["path"]  # routing writes into its scope
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        if len(self.bodies) <= self.refusals:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b'{"exception_message":"x"}'})
            if self.raises:
                raise RuntimeError("database is locked")
            return
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"made ", "more_body": True})
        await send({"type": "http.response.body", "body": body})


def call(app: Any, method: str = "POST", chunks: tuple[bytes, ...] = (b'{"a":', b"1}")) -> Any:
    """Send one request through `app`; what the client received."""
    sent: list[Message] = []
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/api/flow_runs/"}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, sent


@pytest.mark.parametrize("raises", [False, True])
def test_a_refused_write_is_sent_again_with_its_body_until_it_is_taken(raises: bool) -> None:
    flaky = FlakyApp(refusals=2, raises=raises)
    status, body, sent = call(RetryRefusedWrites(flaky))
    assert (status, body) == (201, b'made {"a":1}')
    assert flaky.bodies == [b'{"a":1}'] * 3
    assert flaky.paths == ["/api/flow_runs/"] * 3  # each attempt routed afresh
    assert [m["type"] for m in sent].count("http.response.start") == 1


def test_a_read_answered_503_goes_to_the_client_at_once() -> None:
    flaky = FlakyApp(refusals=1)
    status, _, _ = call(RetryRefusedWrites(flaky), method="GET", chunks=(b"",))
    assert status == 503
    assert len(flaky.bodies) == 1


def test_a_write_still_refused_after_the_retry_time_gets_its_503() -> None:
    flaky = FlakyApp(refusals=10_000)
    status, body, _ = call(RetryRefusedWrites(flaky, retry_for=0.05))
    assert (status, body) == (503, b'{"exception_message":"x"}')
    assert 1 < len(flaky.bodies) < 10_000


def test_the_last_refusal_raises_as_the_app_raised_it() -> None:
    flaky = FlakyApp(refusals=10_000, raises=True)
    with pytest.raises(RuntimeError, match="database is locked"):
        call(RetryRefusedWrites(flaky, retry_for=0.05))


def test_other_answers_stream_through_unchanged() -> None:
    direct = call(FlakyApp(refusals=0))
    wrapped = call(RetryRefusedWrites(FlakyApp(refusals=0)))
    assert wrapped == direct
    assert json.loads(wrapped[1].removeprefix(b"made ")) == {"a": 1}


BACK_TO_BACK = """
import os, sys
os.environ["LENDFLOW_HOME"] = sys.argv[1]
from lendflow.cli.runs import prepare_flow_run
prepare_flow_run()  # lendflow's temporary server, as a command starts it
import httpx
from prefect import flow, task
from lendflow.flows.runtime import batch_run
refused = []
send = httpx.Client.send
def counted(self, request, **kwargs):
    response = send(self, request, **kwargs)
    if response.status_code == 503:
        refused.append(request.url.path)
    return response
httpx.Client.send = counted
@task
def step(x):
    return x + 1
@flow
def run():
    a, b = step.submit(1), step.submit(2)
    return step.submit(step.submit(a.result() + b.result()).result()).result()
with batch_run():
    done = [run() for _ in range(5)]
print(done, len(refused))
"""


def test_flows_run_back_to_back_on_lendflows_server_are_never_refused(tmp_path: Path) -> None:
    """Each flow run is created while the server still records the last one's events:
    Prefect's own server answered 503 to most of them and its client waited 2 s each."""
    done = subprocess.run(
        [sys.executable, "-c", BACK_TO_BACK, str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=180,
        env={k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[7, 7, 7, 7, 7] 0"
