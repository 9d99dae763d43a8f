"""Which Prefect server a command's flows report to, and the workspace's own server.

Prefect 3 runs every flow against an API. Left alone without `PREFECT_API_URL`, it
imports its whole server into the command's process (about 2 s) only to start it in a
subprocess when the first flow starts (about 3 s more, on top), and prints its start and
stop lines. A command that runs flows calls `connect` before prefect is imported
(Prefect reads `PREFECT_API_URL` once, at import) and reports to, in this order:

1. the server `PREFECT_API_URL` names, when the environment sets one;
2. the workspace's server, which `lendflow server start` records in
   `<home>/prefect/server.json`, when it answers its health check within
   `HEALTH_TIMEOUT`;
3. a temporary server of the command's own, the one Prefect would start, started at
   once so that it boots while the command does its own work and checks, waited for
   when the first flow starts (`await_temporary_server`, from `runtime.batch_run`) and
   stopped when the command ends (or with it: it gets SIGTERM if the command dies).

A server's first start in a workspace migrates Prefect's empty database (about 3 s on a
2-core machine). The first temporary server to do so keeps a copy of that empty database
in the user's cache (`$XDG_CACHE_HOME/lendflow/prefect-<version>.db`), and later servers
in new workspaces start from a copy of it (`seed_database`, `keep_template`).

This module imports no Prefect: it runs before prefect is imported, and the server runs
Prefect in a process of its own.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from lendflow.domain.errors import Refused
from lendflow.flows.environment import prepare_prefect

if TYPE_CHECKING:
    from lendflow.config.settings import Settings

HEALTH_TIMEOUT = 0.15
"""Seconds a recorded server has to answer before a command starts one of its own."""

STARTUP_TIMEOUT = 120.0
"""Seconds a server has to answer after it starts: a busy small machine is slow."""

SERVER_APP = "lendflow.flows.prefect_app:create_app"
"""Prefect's server app with its refused writes retried in the server (`prefect_app`)."""
EARLIER_SERVER_APPS = ("prefect.server.api.server:create_app",)
"""What servers started by earlier versions run: still recognised as the workspace's."""

PORT_IN_USE = 3
"""uvicorn's exit status when it cannot bind its port."""

QUIET_PREFECT = {
    # Prefect's console handler (its root logger's) and its internal debug handler: its
    # own lines stay off the terminal, while its loggers still send flow and task run
    # logs to the server. CRITICAL is the highest level logging's configuration accepts.
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_DEBUG_LEVEL": "CRITICAL",
}

TEMPORARY_SERVER_SETTINGS = {
    # The settings Prefect gives its own temporary server: API only, the services that
    # record runs (events, task runs) and nothing else.
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    # Measured on a 2-core machine: block types registered on a fresh database cost
    # about 2 s and lendflow's flows use no blocks; automations are a deployment's.
    "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
}

ServerState = Literal["up", "not answering", "stopped"]
SERVED_RUNS_PATH = "/lendflow/runs"
"""Where the workspace's server takes a stage run or a batch loan flow (`served_runs`)."""
TOKEN_VARIABLE = "LENDFLOW_SERVER_TOKEN"
"""The environment variable that hands the server its token (never its command line)."""


@dataclass(frozen=True)
class ServerRecord:
    """A Prefect server started for a workspace: where it answers and its process."""

    url: str
    pid: int
    started: str
    log: str
    token: str = ""
    """What a command shows the server to hand it a run (`served_runs`); a server
    started before there were any has none."""
    settings: str = ""
    """`settings_fingerprint` of the settings the server runs flows with: a command whose
    own differ (another database, a fixed date) runs its flows itself."""


@dataclass(frozen=True)
class ServerStatus:
    """Whether the workspace's server is up; `stale` is a record removed because its
    process had gone."""

    state: ServerState
    record: ServerRecord | None = None
    stale: ServerRecord | None = None

    def as_dict(self) -> dict[str, Any]:
        record = self.record
        return {
            "running": self.state == "up",
            "state": self.state,
            "url": record.url if record else None,
            "pid": record.pid if record else None,
            "started": record.started if record else None,
            "log": record.log if record else None,
            "removed_stale_pid": self.stale.pid if self.stale else None,
        }


def record_path(home: Path) -> Path:
    """Where the workspace at `home` records its Prefect server."""
    return home / "prefect" / "server.json"


def read_record(home: Path) -> ServerRecord | None:
    """The recorded server, or None; a record that cannot be read counts as none."""
    try:
        data = json.loads(record_path(home).read_text(encoding="utf-8"))
        return ServerRecord(
            url=str(data["url"]), pid=int(data["pid"]), started=str(data["started"]),
            log=str(data["log"]), token=str(data.get("token", "")),
            settings=str(data.get("settings", "")),
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_record(home: Path, record: ServerRecord) -> None:
    path = record_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.unlink(missing_ok=True)
    # its owner's alone: the token hands the server runs as any of the workspace's users
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(json.dumps(asdict(record), indent=2) + "\n")
    os.replace(partial, path)


def _remove_record(home: Path) -> None:
    record_path(home).unlink(missing_ok=True)


def healthy(api_url: str, timeout: float = HEALTH_TIMEOUT) -> bool:
    """Whether the Prefect API at `api_url` answers `GET /health` with 200 within
    `timeout` seconds (a refused connection answers at once)."""
    from http.client import HTTPConnection, HTTPException
    from urllib.parse import urlsplit

    parts = urlsplit(api_url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    connection = HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", parts.path.rstrip("/") + "/health")
        return connection.getresponse().status == 200
    except (OSError, HTTPException):
        return False
    finally:
        connection.close()


def server_process_alive(pid: int) -> bool:
    """Whether `pid` is still a running Prefect server (not gone, not a zombie, not a
    number the system has since given to another program)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a server this very process started is its child: reap it once it ends
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    proc = Path(f"/proc/{pid}")
    if not proc.exists():  # no /proc (macOS): the signal check is all there is
        return True
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        command = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    apps = (SERVER_APP, *EARLIER_SERVER_APPS)
    return state != "Z" and any(app.encode() in command for app in apps)


def server_status(home: Path) -> ServerStatus:
    """The workspace's server: up, recorded but not answering (starting, or hung), or
    stopped; a record whose process has gone is removed on the way."""
    record = read_record(home)
    if record is None:
        if record_path(home).exists():  # unreadable: nothing can be done with it
            _remove_record(home)
        return ServerStatus("stopped")
    if healthy(record.url):
        return ServerStatus("up", record)
    if server_process_alive(record.pid):
        return ServerStatus("not answering", record)
    _remove_record(home)
    return ServerStatus("stopped", stale=record)


def workspace_server_url(home: Path) -> str | None:
    """The recorded server's API URL when it answers now, else None."""
    record = read_record(home)
    if record is None:
        return None
    if healthy(record.url):
        return record.url
    if not server_process_alive(record.pid):
        _remove_record(home)
    return None


def _port_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port`; a server stopped just now leaves its
    connections waiting out TIME_WAIT, which uvicorn binds over, and so does this check."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _uvicorn(port: int, log_level: str) -> list[str]:
    """The command Prefect itself runs a server with (`prefect server start`)."""
    return [
        sys.executable, "-m", "uvicorn", "--factory", SERVER_APP,
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", log_level, "--lifespan", "on",
    ]  # fmt: skip


def _server_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment for a server: its own settings, never a client's
    API URL or quieted console."""
    env = {**os.environ, **extra}
    for name in ("PREFECT_API_URL", *QUIET_PREFECT):
        env.pop(name, None)
    return env


def _die_with_parent() -> None:
    """Run in the child before it execs: on Linux, SIGTERM when the command that started
    it ends, however it ends, so a killed command leaves no server behind."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _tied_to_this_process() -> Callable[[], None] | None:
    """`_die_with_parent` for a server started from the main thread, else None. Linux
    sends the parent-death signal when the *thread* that started the child ends: the API
    server starts its temporary server from a request's worker thread, which its thread
    pool retires after 10 idle seconds, and the server would then die under it. There
    the API server stops it as it shuts down (`stop_temporary_servers`) and at exit."""
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    return _die_with_parent


def _default_database(env: dict[str, str]) -> Path | None:
    """The SQLite file a server run with `env` keeps its state in, when it keeps it where
    Prefect keeps it by default (no database or profile of its own); None otherwise."""
    if any(name.startswith("PREFECT_") and "DATABASE" in name for name in env):
        return None
    home = env.get("PREFECT_HOME")
    if not home or (Path(home).expanduser() / "profiles.toml").exists():
        return None
    return Path(home).expanduser() / "prefect.db"


def _fresh_database(env: dict[str, str]) -> Path | None:
    """The SQLite file a server run with `env` would create, when it has none yet and
    keeps its state where Prefect keeps it by default."""
    database = _default_database(env)
    return None if database is None or database.exists() else database


def template_path() -> Path:
    """Where this installation keeps Prefect's migrated, empty database, per Prefect
    version (its migrations change only with it)."""
    from importlib.metadata import version

    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "lendflow" / f"prefect-{version('prefect')}.db"


def seed_database(database: Path) -> bool:
    """Start `database` as a copy of the kept empty one, if there is one: a copy takes
    milliseconds where migrating takes seconds."""
    from lendflow.store.prefect_template import copy_if_absent

    return copy_if_absent(template_path(), database)


def keep_template(database: Path) -> None:
    """Keep a copy of a database a server has just migrated, if it holds nothing but its
    schema version; any problem only means the next new workspace migrates again."""
    from lendflow.store.prefect_template import keep_if_empty

    keep_if_empty(database, template_path())


def start_server(
    home: Path, port: int, settings: str = "", *, timeout: float = STARTUP_TIMEOUT
) -> ServerRecord:
    """Start the workspace's Prefect server on 127.0.0.1:`port` in the background, record
    it and return once it answers. Refused when one is up already or the port is taken.
    `settings`: the fingerprint of the settings it inherits (`settings_fingerprint`)."""
    status = server_status(home)
    if status.record is not None:
        record = status.record
        if status.state == "up":
            raise Refused(
                f"a Prefect server for this workspace is already up at {record.url}"
                f" (pid {record.pid}): lendflow server stop first"
            )
        raise Refused(
            f"a Prefect server for this workspace (pid {record.pid}) is starting or not"
            f" answering at {record.url}: wait, or lendflow server stop"
        )
    if not _port_free(port):
        raise Refused(f"port {port} on 127.0.0.1 is in use: choose another with --port")
    prepare_prefect(home)
    token = secrets.token_urlsafe(32)
    env = _server_environment(
        {
            "PREFECT__SERVER_FINAL": "1",
            "DO_NOT_TRACK": "1",
            "LENDFLOW_HOME": str(home),  # the runs it serves open this workspace
            TOKEN_VARIABLE: token,
        }
    )
    fresh = _fresh_database(env)
    if fresh is not None:
        seed_database(fresh)
    log = home / "prefect" / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"--- lendflow server start, port {port}, {datetime.now():%Y-%m-%d %H:%M:%S}\n")
        out.flush()
        process = subprocess.Popen(
            _uvicorn(port, "warning"),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,  # outlives the command, away from its Ctrl-C
        )
    record = ServerRecord(
        url=f"http://127.0.0.1:{port}/api",
        pid=process.pid,
        started=datetime.now().astimezone().isoformat(timespec="seconds"),
        log=str(log),
        token=token,
        settings=settings,
    )
    _write_record(home, record)  # at once: a second start is refused while this one boots
    _await_start(home, process, record, timeout)
    return record


def _await_start(
    home: Path, process: subprocess.Popen[bytes], record: ServerRecord, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not healthy(record.url, 1.0):
        code = process.poll()
        if code is not None or time.monotonic() > deadline:
            if code is None:
                process.kill()
                process.wait()
            _remove_record(home)
            why = (
                f"stopped while starting (exit {code})"
                if code is not None
                else (f"did not answer in {timeout:.0f} s")
            )
            raise Refused(
                f"the Prefect server {why}: {_last_line(Path(record.log))}; see {record.log}"
            )
        time.sleep(0.1)


def _last_line(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    except OSError:
        return "no log"
    found = [line for line in lines if line and not line.startswith("---")]
    return found[-1][:200] if found else "nothing logged"


def stop_server(home: Path, *, timeout: float = 15.0) -> ServerStatus:
    """Stop the workspace's server (SIGTERM, then SIGKILL after `timeout` seconds) and
    remove its record; the status it had, so the caller can say what was done."""
    status = server_status(home)
    record = status.record
    if record is None:
        return status
    try:
        os.killpg(record.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):  # not the leader of its own group
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while server_process_alive(record.pid):
        if time.monotonic() > deadline:
            os.kill(record.pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.1)
    _remove_record(home)
    return status


class TemporaryServer:
    """The Prefect server of one command: spawned at once, waited for by the first flow,
    stopped when the command ends. The same server Prefect starts when it has no API
    URL, without importing Prefect's server into the command's own process."""

    def __init__(self, *, verbose: bool) -> None:
        self.verbose = verbose
        self.errors: IO[bytes] | None = None
        self.ready = False
        self.env = _server_environment(TEMPORARY_SERVER_SETTINGS)
        if self.env.get("PREFECT_HOME"):
            # the server keeps its database there, and SQLite makes no folder: without a
            # kept copy to seed (a new machine), a new workspace's server never answered
            Path(self.env["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
        self.fresh = _fresh_database(self.env)
        if self.fresh is not None and seed_database(self.fresh):
            self.fresh = None  # started from the kept copy: nothing new to keep
        self.migrated = self.fresh is None and _default_database(self.env) is not None
        """Its database was migrated before it started (or is a copy of one that was): until
        it answers, it is only loading Prefect, and ending it at once loses nothing."""
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.port = _free_port()
        if not self.verbose:  # kept to name the cause should it fail to start
            self.errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        return subprocess.Popen(
            _uvicorn(self.port, "warning" if self.verbose else "error"),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if not self.verbose else None,
            stderr=self.errors,
            preexec_fn=_tied_to_this_process(),
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait(self, timeout: float = STARTUP_TIMEOUT) -> str:
        """Block until the server answers; its URL (another port if its first was taken
        between choosing and binding it)."""
        deadline = time.monotonic() + timeout
        while not self.ready:
            if healthy(self.url, 1.0):
                self.ready = True
                if self.fresh is not None:  # migrated just now, before any run: keep a copy
                    keep_template(self.fresh)
                break
            code = self.process.poll()
            if code == PORT_IN_USE:
                self.process = self._spawn()
            elif code is not None:
                raise Refused(
                    f"the temporary Prefect server stopped while starting: {self._cause()}"
                )
            elif time.monotonic() > deadline:
                raise Refused(
                    f"the temporary Prefect server did not answer in {timeout:.0f} s"
                    " (lendflow server start keeps one up)"
                )
            else:
                time.sleep(0.05)
        return self.url

    def _cause(self) -> str:
        if self.errors is None:
            return f"exit {self.process.returncode}"
        self.errors.seek(0)
        lines = self.errors.read().decode(errors="replace").strip().splitlines()
        return lines[-1][:200] if lines else f"exit {self.process.returncode}"

    def stop(self) -> None:
        """Stop the server and wait for it, so its last events are written.

        A server that never answered holds nothing of this command's: if its database was
        migrated already it is killed at once. Asked to stop, it would first finish
        loading Prefect, as uvicorn only notes a SIGTERM while it loads the app, and a
        command refused before its flow started waited those seconds (5 s of 6.5 s for a
        stage run out of order). One migrating a new database is left to finish, so the
        next command does not find it half-built."""
        if self.process.poll() is None:
            if not self.ready and self.migrated:
                self.process.kill()
            elif not self.ready and self.fresh is not None:
                with contextlib.suppress(Refused):  # it stopped, or never answered
                    self.wait()
            if self.process.poll() is None:
                self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.errors is not None:
            self.errors.close()


_temporary: TemporaryServer | None = None


_connecting = threading.Lock()


def connect(home: Path, *, verbose: bool = False) -> str:
    """Before prefect is imported: point this process's flows at a server and keep
    Prefect's own lines off the terminal unless `verbose`. Says where they report:
    "given", "workspace", "temporary", or "as imported" when Prefect was imported
    already (its settings are fixed then: a test harness, a server process)."""
    with _connecting:  # the API's requests may ask at once; one temporary server each
        return _connect(home, verbose)


def _connect(home: Path, verbose: bool) -> str:
    global _temporary
    if "prefect" in sys.modules:
        prepare_prefect(home)
        return "as imported"
    os.environ.setdefault("DO_NOT_TRACK", "1")  # Prefect's client telemetry
    if verbose:  # at least INFO: flow and task runs starting and ending
        if os.environ.get("PREFECT_LOGGING_LEVEL", "").upper() not in ("DEBUG", "INFO"):
            os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
    else:
        os.environ.update(QUIET_PREFECT)
    prepare_prefect(home)
    if os.environ.get("PREFECT_API_URL"):
        return "given"
    recorded = workspace_server_url(home)
    if recorded is not None:
        os.environ["PREFECT_API_URL"] = recorded
        served_by_lendflow(recorded)
        return "workspace"
    if _temporary is None:
        _temporary = TemporaryServer(verbose=verbose)
        atexit.register(_temporary.stop)
    os.environ["PREFECT_API_URL"] = _temporary.url
    return "temporary"


_LENDFLOW_APIS: set[str] = set()


def served_by_lendflow(api_url: str) -> None:
    """Note that the server at `api_url` runs Prefect's app behind lendflow's
    (`flows.prefect_app`), which tries a write SQLite refused again itself."""
    _LENDFLOW_APIS.add(api_url.rstrip("/"))


def retries_refused_writes(api_url: str | None) -> bool:
    """Whether the server at `api_url` is one lendflow started (`served_by_lendflow`).
    Behind Prefect's own server, flow runs close together wait 2 s whenever its SQLite
    database refuses a write: `runtime.batch_run` shares one API client among its flow
    runs only where that cannot happen, as a shared client's runs come closer together."""
    return api_url is not None and api_url.rstrip("/") in _LENDFLOW_APIS


def stop_temporary_servers() -> None:
    """Stop every temporary Prefect server this process started: its own
    (`TemporaryServer`) and the one Prefect starts for flows run without an API URL.

    Both stop at exit anyway; this is for a process that does not reach its exit hooks.
    `lendflow web` is one: on SIGTERM uvicorn shuts the app down, then raises the signal
    again, and the process ends without running them, leaving the server of its last
    stage run behind. Its app calls this as it shuts down."""
    if _temporary is not None:
        _temporary.stop()
    if "prefect.server.api.server" in sys.modules:
        from prefect.server.api.server import SubprocessASGIServer

        # Prefect keeps its temporary servers by port in this class attribute (private)
        for server in list(getattr(SubprocessASGIServer, "_instances", {}).values()):
            server.stop()


def await_temporary_server() -> str | None:
    """The temporary server's URL once it answers, or None when this process reports to
    another server; called as the first flow starts."""
    if _temporary is None:
        return None
    url = _temporary.wait()
    os.environ["PREFECT_API_URL"] = url
    served_by_lendflow(url)
    return url


def settings_fingerprint(settings: Settings) -> str:
    """What a process that runs a workspace's flows must share with the command handing
    it one: the database, the locale and templates, how applications are decided, a fixed
    real date, and the lender's calendar.yaml as it reads it once (a workspace keeps its
    calendar for its life). The server keeps those it was started with."""
    from lendflow.config.settings import CALENDAR_FILE_NAME

    calendar = settings.home / CALENDAR_FILE_NAME
    shared = {
        "database": settings.resolved_database_url,
        "locale": settings.locale,
        "templates": str(settings.templates.resolve()) if settings.templates else None,
        "decisioning": settings.decisioning,
        "today": settings.today.isoformat() if settings.today else None,
        "calendar": hashlib.sha256(calendar.read_bytes()).hexdigest()
        if calendar.exists()
        else None,
    }
    return hashlib.sha256(json.dumps(shared, sort_keys=True).encode()).hexdigest()


def serving_server(home: Path, settings: str) -> ServerRecord | None:
    """The workspace's server when it is up and serves runs (it has a token) with the
    settings of the fingerprint `settings`, else None: the command then runs the flow
    itself."""
    record = read_record(home)
    if record is None or not record.token or record.settings != settings:
        return None
    return record if healthy(record.url) else None


def served_run(record: ServerRecord, flow: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Hand the run of `flow` (a stage, or a batch loan flow) to the workspace's server and
    return the flow's result; its refusal is raised here as the command would raise it."""
    from http.client import HTTPConnection, HTTPException
    from urllib.parse import urlsplit

    from lendflow.domain.errors import BadInput

    parts = urlsplit(record.url)
    connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
    try:
        connection.request(
            "POST",
            SERVED_RUNS_PATH,
            body=json.dumps({"flow": flow, "arguments": arguments}).encode(),
            headers={
                "Authorization": f"Bearer {record.token}",
                "Content-Type": "application/json",
            },
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
    except (OSError, HTTPException, ValueError) as lost:
        raise Refused(
            f"the workspace's Prefect server stopped answering during the run ({lost});"
            f" its log: {record.log}"
        ) from None
    finally:
        connection.close()
    if response.status == 200:
        return dict(answer["result"])
    error = answer.get("error") or {}
    message = str(error.get("message") or f"the server answered {response.status}")
    if response.status >= 500:  # what went wrong is in the server's log
        message = f"{message}; its log: {record.log}"
    if error.get("exit_code") == BadInput.exit_code:
        raise BadInput(message)
    raise Refused(message)
