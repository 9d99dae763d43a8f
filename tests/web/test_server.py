"""A real `lendflow web` on a free port: a short loan life over TCP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lendflow.config.settings import Settings
from lendflow.workspace.context import Workspace
from tests.web.api_helpers import OPENING_DAY, TOKENS_VALUE, application, bearer

DAY = OPENING_DAY.isoformat()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(ws: Workspace, settings: Settings, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "LENDFLOW_HOME": str(settings.home),
        "LENDFLOW_DATABASE_URL": settings.resolved_database_url,
        "LENDFLOW_API_TOKENS": TOKENS_VALUE,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), *sys.path]),
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", "from lendflow.cli import main; main()", "web", "--port", str(port)],
        env=env,
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
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not answer within 30 s"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_a_short_loan_life_against_a_running_server(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        applied = http.post("/api/v1/loans", json=application(), headers=bearer("ops"))
        assert applied.status_code == 201, applied.text
        loan = applied.headers["location"]
        for user, action, body in (
            ("ops", "review", {"business_date": DAY}),
            ("risk", "approve", {"business_date": DAY}),
        ):
            response = http.post(f"{loan}/{action}", json=body, headers=bearer(user))
            assert response.status_code == 200, response.text
        paid = http.post(
            f"{loan}/disburse",
            json={"business_date": DAY},
            headers={**bearer("ops"), "Idempotency-Key": "payout-1"},
        )
        assert paid.json()["state"] == "active", paid.text
        repaid = http.post(
            f"{loan}/repayments",
            json={"amount": "1000.00", "business_date": DAY},
            headers={**bearer("ops"), "Idempotency-Key": "pay-1"},
        )
        assert repaid.status_code == 201, repaid.text
        verified = http.post("/api/v1/audit/verify", headers=bearer("auditor"))
        assert verified.json()["ok"] is True, verified.text
