"""Close of business on a Prefect work pool with two process workers, one of which dies.

A real `prefect server start` (temporary PREFECT_HOME, analytics and UI off),
`lendflow cob deploy --pool` (the pool, the deployment and its automation), and
two `prefect worker start --type process` workers. The run is taken up by the
first worker, whose flow-run process is killed (exit 137, as kill -9) as it
takes up its second chunk, and the worker itself is then killed with SIGKILL,
as if its machine were lost. The worker marks the run crashed, the
deployment's automation schedules it again, the second worker runs it to the
end, and the book equals an uninterrupted local run's.

In the second (slow) test the worker and its run are killed together while the
run waits for the book's write lock: nobody reports a crash, the run's heartbeat
falls silent, the deployment's second automation marks it crashed after 45 s,
and it is run again to the same book.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from lendflow.close_of_business.results import CobRun
from tests.e2e.test_serve import wait_until
from tests.flows.cob_book import CHUNK, FIRST, LAST, TODAY, book, make_book

BIN = Path(sys.executable).parent
POOL = "lendflow-cob"

pytestmark = pytest.mark.scale


@pytest.fixture
def server(prefect_server: str) -> str:
    """A real `prefect server start` of this test's own (tests/e2e/conftest.py)."""
    return prefect_server


def client_env(url: str, home: Path, prefect_home: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PREFECT_API_URL": url,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "LENDFLOW_HOME": str(home),
        "LENDFLOW_USER": "ops",
        "PYTHONPATH": os.getcwd(),
        **extra,
    }
    env.pop("LENDFLOW_FAULT", None)
    env.update(extra)
    return env


def start_worker(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    """A process worker in a session of its own; its log goes to its Prefect home."""
    log = Path(env["PREFECT_HOME"]) / f"worker-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(BIN / "prefect"),
            "worker",
            "start",
            "--pool",
            POOL,
            "--type",
            "process",
            "--name",
            name,
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def lose_machine(worker: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and every process it started (its flow runs have sessions of their own)."""
    import psutil

    processes = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
    for process in processes:
        process.kill()
    psutil.wait_procs(processes, timeout=10)


def flow_run_state(url: str, flow_run_id: UUID) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def start_run(url: str) -> UUID:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("close-of-business/close-of-business")
        run = client.create_flow_run_from_deployment(
            deployment.id,
            parameters={
                "as_of": FIRST.isoformat(),
                "to": LAST.isoformat(),
                "today": TODAY.isoformat(),
                "actor": "ops",
                "chunk_size": CHUNK,
            },
        )
        return run.id


def state_names(url: str, flow_run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        return [state.name for state in client.read_flow_run_states(flow_run_id)]


CLOSE_LOCALLY = """
from lendflow.flows.cob import run_close_of_business
from lendflow.flows.runtime import batch_run
from tests.flows.cob_book import run_parameters

with batch_run():
    print(run_close_of_business(**run_parameters()).model_dump_json())
"""


def close_locally(url: str, home: Path, prefect_home: Path) -> CobRun:
    """The reference: the same dates closed on one machine, uninterrupted, in a process of its own.

    (Its own process, so that Prefect's events of the run are delivered while the
    server is up, not retried at the test session's exit.)
    """
    done = subprocess.run(
        [sys.executable, "-c", CLOSE_LOCALLY],
        env=client_env(url, home, prefect_home),
        capture_output=True,
        text=True,
        check=True,
    )
    return CobRun.model_validate_json(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a Prefect server, a work pool and worker processes: about 30 s
def test_a_run_whose_worker_dies_is_run_again_to_the_same_book(server: str, tmp_path: Path) -> None:
    began = time.perf_counter()
    local, pooled = tmp_path / "local", tmp_path / "pool"
    make_book(local)
    make_book(pooled)
    local_run = close_locally(server, local, tmp_path / "prefect-clients")
    env = client_env(server, pooled, tmp_path / "prefect-clients")
    subprocess.run([str(BIN / "lendflow"), "cob", "deploy", "--pool", POOL], env=env, check=True)
    flow_run_id = start_run(server)
    started = time.perf_counter()
    # The first worker polls once a minute: it takes the run up at once and is
    # gone before it would look again, so the rerun goes to the second worker.
    doomed = start_worker(
        {**env, "LENDFLOW_FAULT": "cob.flow_chunk@2", "PREFECT_WORKER_QUERY_SECONDS": "60"},
        "doomed",
    )
    survivor = None
    try:
        wait_until(
            lambda: "Pending" in state_names(server, flow_run_id),
            60,
            "the first worker to take the run up",
        )
        survivor = start_worker({**env, "PREFECT_WORKER_QUERY_SECONDS": "1"}, "survivor")
        wait_until(
            lambda: "Crashed" in state_names(server, flow_run_id),
            60,
            "the first worker's flow-run process to die",
        )
        lose_machine(doomed)  # and then the worker: its machine is lost
        run = wait_until(  # past the moment Crashed is final, before it is scheduled again
            lambda: (
                (r := flow_run_state(server, flow_run_id)).state.is_final()
                and not r.state.is_crashed()
                and r
            ),
            90,
            "the run to be scheduled again and finish",
        )
        finished = time.perf_counter()
    finally:
        for worker in (doomed, survivor):
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
    print(
        f"work pool, 2 workers, one lost: the run {finished - started:.1f} s,"
        f" the test {time.perf_counter() - began:.1f} s"
    )
    assert run.state.is_completed(), run.state
    assert run.run_count == 2
    history = state_names(server, flow_run_id)
    assert history.index("Crashed") < history.index("AwaitingRetry") < len(history) - 1
    assert book(pooled) == book(local)
    assert local_run.became_overdue > 0 and local_run.penalty_accrued > 0


@pytest.mark.slow
def test_a_run_lost_with_its_worker_is_noticed_and_run_again_to_the_same_book(
    server: str, tmp_path: Path
) -> None:
    """Worker and flow-run process killed together: only the silence of the heartbeat tells."""
    local, pooled = tmp_path / "local", tmp_path / "pool"
    make_book(local)
    make_book(pooled)
    local_run = close_locally(server, local, tmp_path / "prefect-clients")
    env = client_env(server, pooled, tmp_path / "prefect-clients")
    subprocess.run(
        [str(BIN / "lendflow"), "cob", "deploy", "--pool", POOL, "--lost-after", "45"],
        env=env,
        check=True,
    )
    flow_run_id = start_run(server)
    started = time.perf_counter()
    # Hold the book's write lock, so the run is caught in the middle, waiting for it.
    lock = sqlite3.connect(pooled / "lendflow.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    doomed = start_worker({**env, "PREFECT_WORKER_QUERY_SECONDS": "60"}, "doomed")
    survivor = None
    try:
        wait_until(
            lambda: "Running" in state_names(server, flow_run_id),
            60,
            "the first worker's run to start",
        )
        time.sleep(3)  # its first heartbeat reaches the server
        lose_machine(doomed)  # with the run on it
        lock.execute("ROLLBACK")
        survivor = start_worker({**env, "PREFECT_WORKER_QUERY_SECONDS": "1"}, "survivor")
        # Crashed is final for a moment, until the automation schedules the run again
        run = wait_until(
            lambda: (
                (r := flow_run_state(server, flow_run_id)).state.is_final()
                and not r.state.is_crashed()
                and r
            ),
            150,
            "the silent run to be crashed, scheduled again and finished",
        )
        lost = time.perf_counter() - started
        print(f"work pool, worker and run lost together: the run {lost:.1f} s")
    finally:
        lock.close()
        for worker in (doomed, survivor):
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
    assert run.state.is_completed(), run.state
    history = state_names(server, flow_run_id)
    assert history.index("Running") < history.index("Crashed") < history.index("AwaitingRetry")
    assert book(pooled) == book(local)
    assert local_run.became_overdue > 0
