"""An API app over a ready workspace (both example products live, the sandbox gateway) on
each database, and a client per role that goes through the real token dependency."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.identity.tokens import create_token
from lendflow.products import catalogue as products
from lendflow.web.app import create_app
from lendflow.workspace.context import Workspace
from lendflow.workspace.payments import SandboxGateway
from tests.prefect_harness import seeded_prefect_harness
from tests.web.api_helpers import OPENING_DAY, TOKENS, USERS, bearer

ISSUED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PREFECT_ENVIRONMENT = (
    "PREFECT_HOME",
    "PREFECT_SERVER_ANALYTICS_ENABLED",
    "PREFECT_LOGGING_LEVEL",
    "PREFECT_API_URL",
)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Stage runs and close of business are Prefect flows: one temporary Prefect server for
    the tests that start them (ask for it by name), with flow heartbeats off."""
    saved = {k: os.environ.get(k) for k in PREFECT_ENVIRONMENT}
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="lendflow-prefect-")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    os.environ["PREFECT_API_URL"] = ""
    with seeded_prefect_harness():
        yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def ready_workspace(settings: Settings) -> Workspace:
    """A new workspace with both example products live (since the opening day) and the
    sandbox gateway."""
    init_workspace(settings)
    workspace = open_workspace(
        settings, gateway=SandboxGateway(settings.home / "sandbox_gateway.db")
    )
    admin = workspace.actor("admin")
    for path in example_product_paths():
        products.import_product(workspace, admin, path, activate=True, as_of=OPENING_DAY)
    return workspace


@pytest.fixture
def ws(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """The workspace, which the environment also names: flows the API starts open it, as
    they open a served API's own."""
    monkeypatch.setenv("LENDFLOW_DATABASE_URL", settings.resolved_database_url)
    workspace = ready_workspace(settings)
    admin = workspace.actor("admin")
    TOKENS.clear()
    for user in USERS:  # real API tokens, kept as hashes in the workspace's database
        TOKENS[user] = create_token(workspace, admin, user, ISSUED, label="tests").token
    yield workspace
    workspace.close()


@pytest.fixture
def api(ws: Workspace) -> Iterator[TestClient]:
    """A client without a token; `as_user` gives one with a user's token."""
    with TestClient(create_app(ws), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def as_user(api: TestClient) -> Callable[..., Any]:
    """as_user("ops").post(url, json=...) -> the response, with ops's token."""

    class Caller:
        def __init__(self, user: str) -> None:
            self.headers = bearer(user)

        def __getattr__(self, method: str) -> Callable[..., Any]:
            call = getattr(api, method)

            def send(url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
                return call(url, headers={**self.headers, **(headers or {})}, **kw)

            return send

    return Caller


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prefect_servers_of(home: Path, app: bytes = b"prefect.server.api.server") -> list[int]:
    """The Prefect servers running `app` for the workspace at `home` (by the LENDFLOW_HOME
    they inherited), as process ids."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if app in command and (f"LENDFLOW_HOME={home}".encode() in environment):
            found.append(int(entry.name))
    return found


@contextmanager
def running_server(settings: Settings, log_path: Path, **env: str) -> Iterator[str]:
    """A real `lendflow web` on a free port over the workspace `settings` names, with
    `env` added to its environment; yields its base URL and stops it after."""
    port = _free_port()
    environment = {
        **os.environ,
        "LENDFLOW_HOME": str(settings.home),
        "LENDFLOW_DATABASE_URL": settings.resolved_database_url,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), *sys.path]),
        **env,
    }
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", "from lendflow.cli import main; main()", "web", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the server did not answer within 30 s"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def server(ws: Workspace, settings: Settings, tmp_path: Path) -> Iterator[str]:
    """A real `lendflow web` on a free port over the `ws` workspace; yields its base URL."""
    with running_server(settings, tmp_path / "server.log") as base:
        yield base
