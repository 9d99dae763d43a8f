"""Runs handed to the workspace's server: its door (the path, the method, the token, the
runs it serves) and what the command makes of each answer. The runs themselves, against
a real server, are in tests/cli/test_server_cli.py."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from lendflow.config.settings import Settings
from lendflow.domain.errors import BadInput, Refused
from lendflow.flows import served_runs, servers
from lendflow.flows.served_runs import ServedRuns
from lendflow.flows.servers import SERVED_RUNS_PATH, ServerRecord

TOKEN = "s3cret-token"


def _call(app: Any, method: str, path: str, headers: dict[str, str] | None = None) -> list[Any]:
    """One request through the ASGI app: the messages it sent back."""
    sent: list[Any] = []
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "server": ("127.0.0.1", 4200),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


class _Prefect:
    """Stands in for Prefect's app: remembers the paths it was given."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"prefect"})


def _status_and_body(sent: list[Any]) -> tuple[int, Any]:
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_everything_but_the_runs_path_goes_to_prefect() -> None:
    prefect = _Prefect()
    app = ServedRuns(prefect, TOKEN, warm=False)
    sent = _call(app, "POST", "/api/flow_runs/")
    assert (sent[0]["status"], sent[1]["body"]) == (200, b"prefect")
    assert prefect.paths == ["/api/flow_runs/"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
     {"Authorization": TOKEN}],
)  # fmt: skip
def test_a_run_without_the_servers_token_is_refused(headers: dict[str, str]) -> None:
    prefect = _Prefect()
    sent = _call(ServedRuns(prefect, TOKEN, warm=False), "POST", SERVED_RUNS_PATH, headers)
    assert _status_and_body(sent) == (
        401,
        {"error": {"message": "not this server's token", "exit_code": 1}},
    )
    assert prefect.paths == []


def test_the_runs_path_takes_only_posts() -> None:
    sent = _call(ServedRuns(_Prefect(), TOKEN, warm=False), "GET", SERVED_RUNS_PATH)
    assert _status_and_body(sent)[0] == 405


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"not json", "not a run this server serves: "),
        (b'{"flow": "cob", "arguments": {}}', "not a run this server serves: 'cob'"),
        (b'{"flow": "stage", "arguments": {"code": "anxin"}}',
         "not a run this server serves: stage is missing"),
        (b'{"flow": "review_applications", "arguments": {"user": ""}}',
         "not a run this server serves: user is missing"),
        (b'{"flow": "post_repayments", "arguments": {"user": "ops", "channel": 7}}',
         "not a run this server serves: errors and channel must be text"),
    ],
)  # fmt: skip
def test_a_body_that_is_no_run_it_serves_is_bad_input_and_runs_nothing(
    body: bytes, said: str
) -> None:
    status, answer = served_runs._run(body, "http://127.0.0.1:1/api")
    assert status == 422
    assert answer["error"]["exit_code"] == 2
    assert answer["error"]["message"].startswith(said)


def test_it_serves_stages_and_the_batch_loan_flows_of_lendflow_run() -> None:
    assert set(served_runs.SERVED) == {
        "stage", "review_applications", "disburse_approved", "post_repayments"
    }  # fmt: skip


class _Answers(BaseHTTPRequestHandler):
    """Answers each stage run with the next of `answers` (status, JSON, or None to hang
    up); remembers what it was sent."""

    answers: ClassVar[list[tuple[int, Any] | None]] = []
    seen: ClassVar[list[tuple[str, str, Any]]] = []

    def do_GET(self) -> None:  # Prefect's health check
        self.send_response(200 if self.path == "/api/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        type(self).seen.append((self.path, self.headers["Authorization"], body))
        answer = type(self).answers.pop(0)
        if answer is None:
            self.close_connection = True
            return
        status, document = answer
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[ServerRecord]:
    _Answers.answers, _Answers.seen = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api"
    yield ServerRecord(url=url, pid=1, started="", log="/ws/prefect/server.log", token=TOKEN)
    server.shutdown()
    server.server_close()


RUN = {"code": "anxin", "stage": "charter", "user": "pm", "as_of": "2026-03-02",
       "inputs": {}, "samples": True}  # fmt: skip
SENT = {"flow": "stage", "arguments": RUN}


def test_the_command_sends_the_run_with_the_token_and_takes_the_result(
    answering: ServerRecord,
) -> None:
    _Answers.answers = [(200, {"result": {"run": 7, "stage": "charter"}})]
    assert servers.served_run(answering, "stage", RUN) == {"run": 7, "stage": "charter"}
    assert _Answers.seen == [(SERVED_RUNS_PATH, f"Bearer {TOKEN}", SENT)]


def test_each_refusal_comes_back_as_the_command_would_raise_it(answering: ServerRecord) -> None:
    _Answers.answers = [
        (422, {"error": {"message": "charter.yaml: file not found", "exit_code": 2}}),
        (422, {"error": {"message": "user ops may not run product stages", "exit_code": 1}}),
        (500, {"error": {"message": "the run failed", "exit_code": 1}}),
    ]
    with pytest.raises(BadInput, match=r"^charter.yaml: file not found$"):
        servers.served_run(answering, "stage", RUN)
    with pytest.raises(Refused, match=r"^user ops may not run product stages$"):
        servers.served_run(answering, "stage", RUN)
    with pytest.raises(Refused, match=r"^the run failed; its log: /ws/prefect/server.log$"):
        servers.served_run(answering, "stage", RUN)


def test_a_server_that_hangs_up_mid_run_is_said_with_its_log(answering: ServerRecord) -> None:
    _Answers.answers = [None]
    with pytest.raises(Refused, match=r"stopped answering during the run .*server\.log$"):
        servers.served_run(answering, "stage", RUN)


def test_only_a_server_with_a_token_and_the_commands_settings_takes_runs(
    isolated_environment: Path, answering: ServerRecord
) -> None:
    home = isolated_environment
    older = ServerRecord(url=answering.url, pid=1, started="", log="x.log")  # no token
    servers._write_record(home, older)
    assert servers.read_record(home) == older
    assert servers.serving_server(home, "") is None
    served = dataclasses.replace(answering, settings="abc")
    servers._write_record(home, served)
    assert servers.serving_server(home, "abc") == served
    assert servers.serving_server(home, "other settings") is None
    assert servers.record_path(home).stat().st_mode & 0o777 == 0o600


def test_the_settings_a_served_run_must_share_are_those_its_flows_read(tmp_path: Path) -> None:
    given: dict[str, Any] = {"home": tmp_path, "user": "pm", "today": date(2026, 3, 2)}
    same = servers.settings_fingerprint(Settings(**given))
    assert servers.settings_fingerprint(Settings(**{**given, "user": "ops"})) == same
    for changed in (
        {"database_url": "sqlite:////elsewhere/lendflow.db"},
        {"today": date(2026, 3, 3)},
        {"decisioning": "manual" if Settings(**given).decisioning == "automated" else "automated"},
        {"locale": "en"},
        {"templates": tmp_path / "templates"},
    ):
        assert servers.settings_fingerprint(Settings(**{**given, **changed})) != same, changed
    # the lender's calendar, which a workspace reads once for its life, edited meanwhile
    (tmp_path / "calendar.yaml").write_text("holidays: []\n", encoding="utf-8")
    assert servers.settings_fingerprint(Settings(**given)) != same


def test_only_a_server_started_from_the_main_thread_dies_with_its_starter() -> None:
    """Linux sends the parent-death signal when the starting *thread* ends: the API server
    starts its temporary server from a worker thread its pool retires when idle."""
    found: list[Any] = []
    worker = threading.Thread(target=lambda: found.append(servers._tied_to_this_process()))
    worker.start()
    worker.join()
    assert found == [None]
    assert servers._tied_to_this_process() is servers._die_with_parent
