"""`lendflow server start|stop|status`, and how a command finds the workspace's server.

A tiny HTTP server that answers `/api/health` stands in for Prefect's where only the
finding is checked; the slow test starts a real one, runs the charter stage against it
and stops it.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lendflow.flows import servers
from lendflow.flows.servers import SERVER_APP, record_path

ROOT = Path(__file__).resolve().parents[2]


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path == "/api/health"
        self.send_response(200 if found else 404)
        self.end_headers()
        self.wfile.write(b"true" if found else b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[str]:
    """The API URL of a server that answers Prefect's health check, and nothing else."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()
    server.server_close()


def _record(home: Path, url: str, pid: int) -> Path:
    path = record_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"url": url, "pid": pid, "started": "2026-03-02T09:00:00+08:00", "log": "x.log"}
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def _gone_pid() -> int:
    """The number of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(home: Path, **extra: str) -> dict[str, str]:
    """A user's shell: the workspace, no Prefect settings of its own, a cache of the test's."""
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "LENDFLOW_HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"), **extra,
    }  # fmt: skip
    for name in ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_LOGGING_LEVEL"):
        if name not in extra:
            env.pop(name, None)
    return env


def test_status_without_a_server_says_so(lendflow, isolated_environment: Path) -> None:  # type: ignore[no-untyped-def]
    result = lendflow("server status")
    assert result.exit_code == 0
    assert result.stdout.strip() == (
        "no Prefect server is running for this workspace; flows start a temporary one"
        " (lendflow server start keeps one up)"
    )
    as_json = lendflow("server status --json")
    assert as_json.exit_code == 0
    assert as_json.json()["running"] is False
    assert as_json.json()["url"] is None


def test_a_record_whose_process_has_gone_is_removed(lendflow, isolated_environment: Path) -> None:  # type: ignore[no-untyped-def]
    pid = _gone_pid()
    record = _record(isolated_environment, "http://127.0.0.1:9/api", pid)
    result = lendflow("server status")
    assert result.exit_code == 0
    assert result.stdout.startswith(
        f"no Prefect server is running for this workspace (removed the record of pid {pid},"
        " which had stopped)"
    )
    assert not record.exists()
    assert lendflow("server status --json").json()["removed_stale_pid"] is None


def test_stopping_with_a_stale_record_removes_it(lendflow, isolated_environment: Path) -> None:  # type: ignore[no-untyped-def]
    pid = _gone_pid()
    record = _record(isolated_environment, "http://127.0.0.1:9/api", pid)
    result = lendflow("server stop")
    assert result.exit_code == 0
    assert result.stdout.strip() == (
        "no Prefect server is running for this workspace"
        f" (removed the record of pid {pid}, which had stopped)"
    )
    assert not record.exists()


def test_a_recorded_server_that_answers_is_up(  # type: ignore[no-untyped-def]
    lendflow, isolated_environment: Path, health_server: str
) -> None:
    assert lendflow("init").exit_code == 0
    _record(isolated_environment, health_server, os.getpid())
    result = lendflow("server status --json")
    assert result.exit_code == 0
    assert result.json()["running"] is True
    assert result.json()["url"] == health_server
    again = lendflow("server start")
    assert again.exit_code == 1
    assert again.error() == (
        f"error: a Prefect server for this workspace is already up at {health_server}"
        f" (pid {os.getpid()}): lendflow server stop first"
    )


def test_a_taken_port_is_refused_before_anything_starts(
    lendflow, isolated_environment: Path
) -> None:  # type: ignore[no-untyped-def]
    assert lendflow("init").exit_code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = lendflow(f"server start --port {port}")
    assert result.exit_code == 1
    assert (
        result.error() == f"error: port {port} on 127.0.0.1 is in use: choose another with --port"
    )
    assert not record_path(isolated_environment).exists()


def test_no_server_starts_where_there_is_no_workspace(lendflow, isolated_environment: Path) -> None:  # type: ignore[no-untyped-def]
    result = lendflow("server start")
    assert result.exit_code == 2
    assert (
        result.error()
        == f"error: no workspace at {isolated_environment}: run `lendflow init` first"
    )
    assert not isolated_environment.exists()


def test_stop_ends_a_server_that_does_not_answer(lendflow, isolated_environment: Path) -> None:  # type: ignore[no-untyped-def]
    hung = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", SERVER_APP],
        start_new_session=True,
    )
    try:
        record = _record(isolated_environment, "http://127.0.0.1:9/api", hung.pid)
        status = lendflow("server status")
        assert status.stdout.strip() == (
            f"Prefect server pid {hung.pid} is not answering at http://127.0.0.1:9/api"
            " (starting, or hung: lendflow server stop)"
        )
        stopped = lendflow("server stop")
        assert stopped.exit_code == 0
        assert stopped.stdout.strip() == (
            f"stopped the Prefect server at http://127.0.0.1:9/api (pid {hung.pid})"
        )
        hung.wait(timeout=5)
        with pytest.raises(ProcessLookupError):
            os.kill(hung.pid, 0)
        assert not record.exists()
    finally:
        if hung.poll() is None:
            hung.kill()
            hung.wait()


def test_the_health_check_gives_up_quickly(isolated_environment: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        began = time.monotonic()
        answered = servers.healthy(f"http://127.0.0.1:{silent.getsockname()[1]}/api")
        took = time.monotonic() - began
    assert answered is False
    assert took < 0.5


def test_a_stale_record_is_not_used_and_is_removed(isolated_environment: Path) -> None:
    record = _record(isolated_environment, "http://127.0.0.1:9/api", _gone_pid())
    assert servers.workspace_server_url(isolated_environment) is None
    assert not record.exists()


# Connects as a command that runs flows does, in a process that has not loaded Prefect,
# and prints where its flows would report.
CONNECT = """
import os, sys
from pathlib import Path
from lendflow.flows.servers import connect
where = connect(Path(sys.argv[1]))
print(where, os.environ["PREFECT_API_URL"], "prefect" in sys.modules)
"""


def test_a_command_reports_to_the_recorded_server_when_it_answers(
    isolated_environment: Path, health_server: str
) -> None:
    _record(isolated_environment, health_server, os.getpid())
    found = subprocess.run(
        [sys.executable, "-c", CONNECT, str(isolated_environment)],
        env=_environment(isolated_environment),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["workspace", health_server, "False"]


def test_a_prefect_api_url_in_the_environment_still_wins(
    isolated_environment: Path, health_server: str
) -> None:
    _record(isolated_environment, health_server, os.getpid())
    given = "http://127.0.0.1:1/api"
    found = subprocess.run(
        [sys.executable, "-c", CONNECT, str(isolated_environment)],
        env=_environment(isolated_environment, PREFECT_API_URL=given),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["given", given, "False"]


# the command, then whether it loaded Prefect, on stderr
WITHOUT_PREFECT = """
import sys
from lendflow.cli import main
try:
    main()
finally:
    print("prefect " + ("loaded" if "prefect" in sys.modules else "not loaded"), file=sys.stderr)
"""


def _cli(
    home: Path,
    *arguments: str,
    timeout: float = 300,
    run: str = "from lendflow.cli import main; main()",
    cwd: Path = ROOT,
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", run, *arguments],
        env={**_environment(home), **(extra or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.mark.slow
def test_flows_run_in_the_workspace_server_and_quietly_without_one(  # type: ignore[no-untyped-def]
    lendflow, isolated_environment: Path
) -> None:
    home = isolated_environment
    assert lendflow("init").exit_code == 0
    created = lendflow("product create anxin --name 安心贷 --on 2026-03-02 --as admin")
    assert created.exit_code == 0, created.stderr

    alone = _cli(home, "stage", "run", "anxin", "charter", "--samples", "--on", "2026-03-02",
                 "--as", "pm")  # fmt: skip
    assert alone.returncode == 0, alone.stderr
    assert "charter run 1 of anxin v1 succeeded" in alone.stdout
    assert alone.stderr == ""  # a temporary server, and not one line of Prefect's

    port = _free_port()
    try:
        started = _cli(home, "server", "start", "--port", str(port))
        assert started.returncode == 0, started.stderr
        url = f"http://127.0.0.1:{port}/api"
        assert started.stdout.startswith(f"Prefect server up at {url} (pid ")
        assert lendflow("server status --json").json()["url"] == url

        served = _cli(home, "stage", "run", "anxin", "charter", "--samples", "--on",
                      "2026-03-02", "--as", "pm", "--verbose")  # fmt: skip
        assert served.returncode == 0, served.stderr
        assert "charter run 2 of anxin v1 succeeded" in served.stdout
        assert f"Prefect: the workspace's server (lendflow server start) ({url})" in served.stderr
        assert f"View at http://127.0.0.1:{port}/runs/flow-run/" in served.stderr

        # without --verbose the server runs the stage itself: the command loads no Prefect
        quiet = _cli(home, "stage", "run", "anxin", "charter", "--samples", "--on",
                     "2026-03-02", "--as", "pm", run=WITHOUT_PREFECT)  # fmt: skip
        assert quiet.returncode == 0, quiet.stderr
        assert quiet.stderr == "prefect not loaded\n"
        assert quiet.stdout.splitlines()[:2] == [
            "inputs from the shipped samples: charter (samples/charter.yaml)",
            "charter run 3 of anxin v1 succeeded; anxin is charter, waiting at the charter gate",
        ]
        assert quiet.stdout.splitlines()[2:] == alone.stdout.splitlines()[2:]
        history = lendflow("stage show anxin charter --as auditor --json").json()
        assert [(r["run"], r["run_by"]) for r in history["runs"]][-1] == (3, "pm")
        # ... and refuses as the command does, in one line with its exit code
        early = _cli(home, "stage", "run", "anxin", "research", "--samples", "--on",
                     "2026-03-03", "--as", "pm", run=WITHOUT_PREFECT)  # fmt: skip
        assert early.returncode == 1
        assert early.stderr == (
            "error: product anxin v1 is at the charter stage; research runs after charter"
            " passes its gate\nprefect not loaded\n"
        )
        assert early.stdout == ""
        denied = _cli(home, "stage", "run", "anxin", "charter", "--samples", "--on",
                      "2026-03-02", "--as", "ops", run=WITHOUT_PREFECT)  # fmt: skip
        assert denied.returncode == 1
        assert denied.stderr == (
            "error: user ops (operator) may not run product stages\nprefect not loaded\n"
        )
        # so do the batch loan flows of `lendflow run`, refusals as the command gives them
        queue = _cli(home, "run", "review-applications", "--on", "2026-03-02", "--as", "ops",
                     run=WITHOUT_PREFECT)  # fmt: skip
        assert (queue.returncode, queue.stdout) == (0, "scanned: 0\n"), queue.stderr
        assert queue.stderr == "prefect not loaded\n"
        wrong = _cli(home, "run", "review-applications", "--on", "2026-03-02", "--as", "pm",
                     run=WITHOUT_PREFECT)  # fmt: skip
        assert wrong.returncode == 1
        assert wrong.stderr == (
            "error: user pm (product_manager) may not review applications\nprefect not loaded\n"
        )
        # a command whose settings are not the server's (here its fixed date) runs it itself
        apart = _cli(home, "run", "review-applications", "--on", "2026-03-02", "--as", "ops",
                     run=WITHOUT_PREFECT, extra={"LENDFLOW_TODAY": "2027-12-30"})  # fmt: skip
        assert (apart.returncode, apart.stdout) == (0, "scanned: 0\n"), apart.stderr
        assert apart.stderr == "prefect loaded\n"
        # a file named as the user's shell sees it, not as the server's working folder would
        (home / "pay.csv").write_text(
            "reference,loan_id,amount,paid_on\nR1,999,100.00,2026-03-02\n", encoding="utf-8"
        )
        paid = _cli(home, "run", "post-repayments", "pay.csv", "--on", "2026-03-02", "--as", "ops",
                    run=WITHOUT_PREFECT, cwd=home)  # fmt: skip
        assert paid.returncode == 2, paid.stderr
        assert paid.stdout.splitlines()[:2] == [
            "posted 0, refused 1, duplicates 0, total amount posted 0.00",
            "  line 2: loan 999 does not exist",
        ]
        assert (home / "pay.csv.errors.csv").read_text(encoding="utf-8").splitlines()[1] == (
            "2,R1,refused,loan 999 does not exist"
        )
        # its token is for its owner's eyes: not shown by status, the record only theirs
        assert "token" not in lendflow("server status --json").stdout
        assert record_path(home).stat().st_mode & 0o777 == 0o600
    finally:
        stopped = _cli(home, "server", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.startswith(f"stopped the Prefect server at http://127.0.0.1:{port}/api")
    assert lendflow("server status --json").json()["running"] is False


def _database(path: Path, *, runs: int = 0) -> Path:
    """A Prefect database as its migrations leave it (the schema version, empty tables),
    with `runs` flow runs in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
        connection.execute("INSERT INTO alembic_version VALUES ('3c841a1800a1')")
        connection.execute("CREATE TABLE flow_run (id TEXT)")
        connection.executemany("INSERT INTO flow_run VALUES (?)", [(str(n),) for n in range(runs)])
    return path


def _contents(path: Path) -> tuple[list[tuple[str]], list[tuple[str]]]:
    with sqlite3.connect(path) as connection:
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        runs = connection.execute("SELECT id FROM flow_run").fetchall()
    return versions, runs


def test_a_new_workspace_starts_from_the_kept_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert servers.seed_database(tmp_path / "new" / "prefect.db") is False  # nothing kept yet
    servers.keep_template(_database(tmp_path / "first" / "prefect.db"))
    assert servers.template_path().parent == tmp_path / "cache" / "lendflow"

    new = tmp_path / "new" / "prefect.db"
    assert servers.seed_database(new) is True
    assert _contents(new) == ([("3c841a1800a1",)], [])


def test_a_database_made_meanwhile_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    servers.keep_template(_database(tmp_path / "first" / "prefect.db"))
    busy = _database(tmp_path / "busy" / "prefect.db", runs=2)
    assert servers.seed_database(busy) is False
    assert _contents(busy)[1] == [("0",), ("1",)]
    assert [p.name for p in busy.parent.iterdir()] == ["prefect.db"]  # no copy left behind


def test_a_database_that_has_seen_runs_is_never_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    servers.keep_template(_database(tmp_path / "used" / "prefect.db", runs=1))
    assert not servers.template_path().exists()
    assert not (tmp_path / "cache" / "lendflow").exists() or not any(
        (tmp_path / "cache" / "lendflow").iterdir()
    )


NEW_MACHINE = """
import sys
from lendflow.flows.servers import TemporaryServer
server = TemporaryServer(verbose=False)
try:
    print(server.wait(90))
finally:
    server.stop()
"""


def test_a_temporary_server_answers_in_a_new_workspace_on_a_new_machine(tmp_path: Path) -> None:
    """No kept copy of Prefect's database to start from, and the workspace's Prefect folder
    not made yet: the server makes its database there (it waited for nothing, 120 s)."""
    home = tmp_path / "workspace"
    env = _environment(home, PREFECT_HOME=str(home / "prefect"))
    done = subprocess.run(
        [sys.executable, "-c", NEW_MACHINE], capture_output=True, text=True, env=env, timeout=150
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith("http://127.0.0.1:")
    assert (home / "prefect" / "prefect.db").exists()
