"""A real `lendflow web` on a free port: a short loan life over TCP."""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import anyio.to_thread
import httpx

from lendflow.web.app import limit_threads
from tests.web.api_helpers import OPENING_DAY, application, bearer

DAY = OPENING_DAY.isoformat()


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


def test_web_refuses_to_start_without_a_workspace_in_one_line(lendflow: Any) -> None:
    run = lendflow("web --port 8123")
    assert run.exit_code == 2
    assert "lendflow init" in run.error()


def test_web_takes_the_workspace_folder_and_refuses_a_missing_one(
    lendflow: Any, tmp_path: Any
) -> None:
    missing = lendflow(f"web --home {tmp_path / 'nowhere'} --port 8123")
    assert missing.exit_code == 2
    assert missing.error().strip() == f"error: --home {tmp_path / 'nowhere'} is not a folder"
    # a folder without the workspace's key: refused in one line before the server starts
    empty = lendflow(f"web --home {tmp_path} --port 8123")
    assert empty.exit_code == 2
    assert len(empty.error().strip().splitlines()) == 1 and "Started server" not in empty.error()


def test_a_worker_serves_at_most_its_threads_requests_at_once() -> None:
    """`lendflow web --threads N`: each worker runs at most N requests' use cases at
    once, the rest waiting their turn (the event loop keeps accepting them)."""
    running = most = 0
    lock = threading.Lock()

    def use_case() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def serve_six() -> None:
        limit_threads(2)
        async with anyio.create_task_group() as requests:
            for _ in range(6):
                requests.start_soon(anyio.to_thread.run_sync, use_case)

    anyio.run(serve_six)
    assert most == 2


def test_web_refuses_a_thread_count_below_one_in_one_line(lendflow: Any) -> None:
    run = lendflow("web --threads 0 --port 8123")
    assert run.exit_code == 2
    assert "--threads" in run.error()
