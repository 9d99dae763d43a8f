"""Close of business on Dask with two workers: the same book as a local run, even when one dies.

A generated book of 3,000 loans (fixed business dates) is closed three ways:
locally on Prefect's threads, on a Dask LocalCluster of two worker processes,
and on a Dask scheduler whose two workers run as processes of their own, one of
which is killed (exit 137, as kill -9) as it takes up its second chunk, after
its first one committed. The scheduler hands the lost chunk to the surviving
worker; the book (every loan's balances, penalty, days past due and class, the
journal's totals per account, the event count, the notices) and the run's
report equal the local run's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lendflow.flows.cob import run_close_of_business, task_runner
from tests.flows.cob_book import book, make_book, run_parameters

BIN = Path(sys.executable).parent

# Local Dask clusters of worker processes: about 30 s together, run in CI's slow step.
pytestmark = [pytest.mark.scale, pytest.mark.slow]


BEGAN = datetime(2026, 7, 2, tzinfo=UTC)


def close(home: Path, monkeypatch: pytest.MonkeyPatch, runner: Any = None) -> tuple[Any, float]:
    monkeypatch.setenv("LENDFLOW_HOME", str(home))
    began = time.perf_counter()
    run = run_close_of_business(runner=runner, **run_parameters())
    seconds = time.perf_counter() - began
    # each book has its own key and event times, so the anchored hash differs; which
    # event it anchors and the day it closes do not
    assert run.anchor is not None and run.anchor.business_date == run.last
    anchored = {
        "anchor": run.anchor.model_copy(update={"hash": "", "key_id": "", "recorded_at": BEGAN})
    }
    return run.model_copy(update=anchored), seconds


@pytest.fixture
def local_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any]]:
    home = tmp_path / "local"
    make_book(home)
    run, seconds = close(home, monkeypatch)
    print(f"local run: {seconds:.1f} s")
    assert run.became_overdue > 0 and run.penalty_accrued > 0 and run.notices > 0
    return run, book(home)


def test_a_local_cluster_of_two_workers_closes_the_same_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_book: tuple[Any, dict[str, Any]]
) -> None:
    home = tmp_path / "dask"
    make_book(home)
    run, seconds = close(home, monkeypatch, task_runner(dask_workers=2))
    print(f"Dask LocalCluster, 2 workers: {seconds:.1f} s")
    assert (run, book(home)) == local_book


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """A Dask scheduler as a process of its own; its address is read from its file."""
    address_file = tmp_path / "scheduler.json"
    process = subprocess.Popen(
        [
            str(BIN / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(address_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        import json

        time.sleep(0.2)
        yield json.loads(address_file.read_text())["address"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def start_worker(address: str, home: Path, fault: str | None) -> subprocess.Popen[bytes]:
    """One Dask worker process with one thread and no nanny: killed, it stays dead."""
    env = {**os.environ, "LENDFLOW_HOME": str(home), "PYTHONPATH": os.getcwd()}
    env.pop("LENDFLOW_FAULT", None)
    if fault:
        env["LENDFLOW_FAULT"] = fault
    return subprocess.Popen(
        [
            str(BIN / "dask"),
            "worker",
            address,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_mid_run_leaves_the_same_book(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scheduler: str,
    local_book: tuple[Any, dict[str, Any]],
) -> None:
    home = tmp_path / "killed"
    make_book(home)
    doomed = start_worker(scheduler, home, "cob.flow_chunk@2")
    survivor = start_worker(scheduler, home, None)
    try:
        from distributed import Client

        with Client(scheduler, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        run, seconds = close(home, monkeypatch, task_runner(dask_address=scheduler))
        print(f"Dask, 2 workers, one killed: {seconds:.1f} s")
        assert doomed.wait(timeout=5) == 137, "the worker was never killed"
        assert survivor.poll() is None
    finally:
        for worker in (doomed, survivor):
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
    assert (run, book(home)) == local_book
