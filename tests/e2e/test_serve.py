"""`lendflow serve` against a real Prefect server: deployment, schedule, a triggered run.

Starts `prefect server start` on 127.0.0.1, serves lendflow's deployments to it,
reads the close-of-business and monthly product-review deployments and their cron
schedules back through Prefect's own client, triggers a close of business, sees it
complete and close the book, then stops both processes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

from sqlalchemy import select

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.identity import sample_national_id
from lendflow.loans import applications, disbursement
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.store.cob_marks import CLOSED_THROUGH
from lendflow.store.tables import loans

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def make_book(home: Path) -> int:
    settings = Settings(home=home)
    init_workspace(settings)
    ws = open_workspace(settings)
    ops = ws.actor("ops")
    products.import_product(
        ws, ws.actor("admin"), example_product_paths()[0], activate=True, as_of=date(2026, 1, 5)
    )
    application = Application.parse(
        product="cash-easy",
        name="孙七",
        national_id=sample_national_id(date(1991, 2, 3), 77),
        phone="13612345678",
        monthly_income="9000",
        amount="8000",
        term=3,
        consents="all",
    )
    loan_id = applications.apply(ws, ops, application, date(2026, 1, 10)).id
    applications.start_review(ws, ops, loan_id, date(2026, 1, 10))
    applications.approve(ws, ws.actor("risk"), loan_id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan_id, date(2026, 1, 12))
    ws.close()
    return loan_id


async def deployment_and_run(url: str) -> tuple[object, object, object]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}):
        async with get_client() as client:
            deployment = review = None
            for _ in range(120):
                try:
                    deployment = await client.read_deployment_by_name(
                        "close-of-business/close-of-business"
                    )
                    review = await client.read_deployment_by_name("product-review/product-review")
                    break
                except Exception:
                    await asyncio.sleep(1)
            assert deployment is not None, "lendflow serve never registered its deployment"
            assert review is not None, "lendflow serve never registered the monthly review"
        run = await run_deployment(
            "close-of-business/close-of-business",
            parameters={"as_of": "2026-02-20", "today": "2026-02-21", "actor": "ops"},
            timeout=240,
        )
    return deployment, run, review


def test_serve_registers_the_daily_schedule_and_runs_it(
    prefect_server: str, tmp_path: Path
) -> None:
    home = tmp_path / "workspace"
    loan_id = make_book(home)
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_server,
        "PREFECT_HOME": str(tmp_path / "prefect-client"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "LENDFLOW_HOME": str(home),
    }
    served = subprocess.Popen(
        [str(BIN / "lendflow"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deployment, run, review = asyncio.run(deployment_and_run(prefect_server))
    finally:
        served.terminate()
        served.wait(timeout=60)
    schedule = deployment.schedules[0].schedule  # type: ignore[attr-defined]
    assert schedule.cron == "30 0 * * *"
    assert schedule.timezone == "Asia/Shanghai"
    monthly = review.schedules[0].schedule  # type: ignore[attr-defined]
    assert (monthly.cron, monthly.timezone) == ("0 2 1 * *", "Asia/Shanghai")
    assert run.state.is_completed(), run.state  # type: ignore[attr-defined]
    ws = open_workspace(Settings(home=home))
    with ws.engine.connect() as c:
        row = c.execute(
            select(loans.c.state, loans.c.dpd, CLOSED_THROUGH).where(loans.c.id == loan_id)
        ).one()
    ws.close()
    assert tuple(row) == ("overdue", 8, date(2026, 2, 20))
