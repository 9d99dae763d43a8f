"""A product manager's `lendflow stage run` as a fresh process, as it answers in a terminal.

Budgets (the speed issue's): under 5 s without a Prefect server for the workspace (the
command starts a temporary one of its own), under 2 s with one up (`lendflow server
start`). Each run takes a new draft product through its charter stage with the packaged
samples, so every run does the same work; the figure is the wall time from starting the
process to its exit, median of a few runs. The first run on a new machine also migrates
Prefect's empty database once (kept in the user's cache for every later workspace), so it
is run first and not counted. A run that prints a Prefect log line, or fails, fails the
benchmark: the budget is for the quiet command the README shows.

`python -m benchmarks.bench_stage_run` runs it alone; `make bench` runs it with the rest.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.settings import Settings
from lendflow.lifecycle.products import create_product

BUDGET_WITHOUT_SERVER = 5.0
BUDGET_WITH_SERVER = 2.0
RUNS = 3
CREATED_ON = date(2026, 1, 5)
CHARTER_ON = "2026-01-06"
PREFECT_LINE = ("| INFO", "| WARNING", "EventsWorker", "Starting temporary server")


def _lendflow() -> str:
    return str(Path(sys.executable).with_name("lendflow"))


def _environment(home: str) -> dict[str, str]:
    """The user's environment for `home`, without a Prefect server named in it (the
    workspace's own server, or a temporary one, is what is measured)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "LENDFLOW_HOME": home, "LENDFLOW_USER": "pm"}


def _drafts(home: str, count: int) -> list[str]:
    """`count` new draft products, each ready for its charter stage."""
    ws = open_workspace(Settings(home=Path(home)))
    try:
        codes = [f"bench-{i}" for i in range(count)]
        for code in codes:
            create_product(ws, ws.actor("pm"), code, f"测试产品{code}", CREATED_ON)
        return codes
    finally:
        ws.close()


def _stage_run(env: dict[str, str], code: str) -> float:
    """Seconds for one charter stage run; refuses a failed or noisy one."""
    command = [_lendflow(), "stage", "run", code, "charter", "--samples", "--on", CHARTER_ON]
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"stage run of {code} failed ({done.returncode}): {done.stderr}")
    noisy = [line for line in done.stderr.splitlines() if any(p in line for p in PREFECT_LINE)]
    if noisy:
        raise RuntimeError(f"a Prefect log line reached the terminal: {noisy[0]}")
    return seconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server(env: dict[str, str], *action: str) -> None:
    done = subprocess.run([_lendflow(), "server", *action], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"lendflow server {action[0]} failed: {done.stderr.strip()}")


def _verdict(label: str, times: list[float], budget: float) -> bool:
    median = statistics.median(times)
    fits = median <= budget
    print(
        f"`lendflow stage run … charter --samples` {label}: median {median:.2f} s,"
        f" best {min(times):.2f} s over {len(times)} runs; budget {budget:g} s:"
        f" {'OK' if fits else 'OVER BUDGET'}"
    )
    return fits


def run(runs: int = RUNS) -> bool:
    with tempfile.TemporaryDirectory() as home:
        init_workspace(Settings(home=Path(home)))
        codes = _drafts(home, 2 * runs + 1)
        env = _environment(home)
        _stage_run(env, codes[0])  # a new machine's first: Prefect's database migrated once
        alone = [_stage_run(env, code) for code in codes[1 : runs + 1]]
        _server(env, "start", "--port", str(_free_port()))
        try:
            served = [_stage_run(env, code) for code in codes[runs + 1 :]]
        finally:
            _server(env, "stop")
    without = _verdict("without a Prefect server", alone, BUDGET_WITHOUT_SERVER)
    return _verdict("with the workspace's server up", served, BUDGET_WITH_SERVER) and without


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
