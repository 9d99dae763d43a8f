"""How a command's temporary Prefect server is stopped (`servers.TemporaryServer.stop`).

The server here is a stand-in: a process that notes a SIGTERM in a file (as uvicorn does
while it loads Prefect's app, before it stops) and, once it has "migrated", answers
`GET /api/health`.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lendflow.flows import servers

STAND_IN = """
import http.server, signal, sys, time
port, noted, answers_after = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])

def note(*_):
    open(noted, "w").write("asked to stop")
    sys.exit(0)

signal.signal(signal.SIGTERM, note)
time.sleep(answers_after)  # loading Prefect, migrating its database
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *_):
        pass
http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""


@pytest.fixture
def stand_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[float], servers.TemporaryServer]:
    """A temporary server whose process is the stand-in, answering after that many
    seconds, with Prefect's home in the test's folder (and no kept database to copy)."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    for name in [n for n in os.environ if n.startswith("PREFECT_") and "DATABASE" in n]:
        monkeypatch.delenv(name)  # Prefect's default database, in that home
    monkeypatch.setattr(servers, "seed_database", lambda database: False)
    monkeypatch.setattr(servers, "keep_template", lambda database: None)

    def start(answers_after: float) -> servers.TemporaryServer:
        def command(port: int, log_level: str) -> list[str]:
            noted = str(tmp_path / "noted")
            return [sys.executable, "-c", STAND_IN, str(port), noted, str(answers_after)]

        monkeypatch.setattr(servers, "_uvicorn", command)
        return servers.TemporaryServer(verbose=False)

    return start


def test_a_server_that_never_answered_on_a_migrated_database_is_ended_at_once(
    stand_in: Callable[[float], servers.TemporaryServer], tmp_path: Path
) -> None:
    (tmp_path / "prefect").mkdir()
    (tmp_path / "prefect" / "prefect.db").write_bytes(b"")  # migrated by an earlier command
    server = stand_in(600)  # a command refused while its server still loads
    server.stop()
    assert server.process.returncode == -signal.SIGKILL
    assert not (tmp_path / "noted").exists()  # never asked, so never waited for


def test_a_server_migrating_a_new_database_is_let_finish_before_it_is_stopped(
    stand_in: Callable[[float], servers.TemporaryServer], tmp_path: Path
) -> None:
    server = stand_in(0.5)
    assert server.fresh == tmp_path / "prefect" / "prefect.db"
    server.stop()  # refused before its first flow: the server had not answered yet
    assert server.ready
    assert (tmp_path / "noted").read_text() == "asked to stop"
    assert server.process.returncode == 0


def test_a_server_that_answered_is_asked_to_stop(
    stand_in: Callable[[float], servers.TemporaryServer], tmp_path: Path
) -> None:
    (tmp_path / "prefect").mkdir()
    (tmp_path / "prefect" / "prefect.db").write_bytes(b"")
    server = stand_in(0)
    server.wait()
    server.stop()  # its runs' last events are written as it stops
    assert (tmp_path / "noted").read_text() == "asked to stop"
    assert server.process.returncode == 0
