"""The close-of-business flow: the book partitioned by id range, one task per chunk.

Each chunk task closes every date its loans still need (catch-up) up to the
requested date, one transaction per date, so a retried task redoes at most
one date and the watermark makes that a no-op. Chunks are independent, so
they run concurrently on the default task runner, or across processes and
machines on Dask (`LENDFLOW_TASK_RUNNER=dask`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.futures import as_completed

from lendflow.close_of_business.results import CobRun, SweepCounts
from lendflow.close_of_business.sweep import (
    check_dates,
    close_range,
    finish_run,
    id_ranges,
)
from lendflow.config.cob import load_cob_config
from lendflow.flows.runtime import workspace

BUSINESS_TIME_ZONE = ZoneInfo("Asia/Shanghai")
SCHEDULER = "scheduler"

# Set by an interactive caller (the CLI) to follow chunks as they finish.
on_chunk_done: Callable[[int, int], None] | None = None


@task(retries=2, retry_delay_seconds=2)
def close_chunk(
    lo: int, hi: int, first: date, last: date, actor: str, config_path: str | None = None
) -> SweepCounts:
    """Close dates up to `last` for loans with ids in [lo, hi]."""
    config = load_cob_config(Path(config_path) if config_path else None)
    return close_range(workspace(), lo, hi, first, last, actor, config)


def previous_business_date() -> date:
    """The day before this run was scheduled for, where the lender operates.

    A scheduled run at 00:30 closes the day that just ended; the scheduled time
    (not the moment a worker picked the run up) decides which day that is.
    """
    from prefect.runtime import flow_run

    scheduled: datetime = flow_run.scheduled_start_time
    return scheduled.astimezone(BUSINESS_TIME_ZONE).date() - timedelta(days=1)


@flow(name="close-of-business", retries=1, retry_delay_seconds=60)
def close_of_business(
    as_of: date | None = None,
    to: date | None = None,
    actor: str = SCHEDULER,
    chunk_size: int | None = None,
    today: date | None = None,
    config_path: str | None = None,
) -> CobRun:
    """Close business dates `as_of` … `to` (default: the previous business date)."""
    first = as_of or previous_business_date()
    last = to or first
    check_dates(first, last, today or last)
    config = load_cob_config(Path(config_path) if config_path else None)
    ws = workspace()
    ranges = id_ranges(ws, chunk_size or config.chunk_size)
    futures = [close_chunk.submit(lo, hi, first, last, actor, config_path) for lo, hi in ranges]
    totals = SweepCounts()
    for done, future in enumerate(as_completed(futures), start=1):
        totals += future.result()
        if on_chunk_done is not None:
            on_chunk_done(done, len(futures))
    return finish_run(ws, first, last, len(ranges), totals, actor)


def task_runner_from_environment() -> Any:
    """The task runner LENDFLOW_TASK_RUNNER names: default threads, or `dask`.

    `dask` starts a local cluster unless LENDFLOW_DASK_ADDRESS names a running
    scheduler (tcp://host:8786), which is how the sweep scales past one machine.
    """
    name = os.environ.get("LENDFLOW_TASK_RUNNER", "default")
    if name == "default":
        return None
    if name != "dask":
        from lendflow.domain.errors import BadInput

        raise BadInput(f"LENDFLOW_TASK_RUNNER must be default or dask, got {name!r}")
    from prefect_dask import DaskTaskRunner

    address = os.environ.get("LENDFLOW_DASK_ADDRESS")
    if address:
        return DaskTaskRunner(address=address)
    workers = int(os.environ.get("LENDFLOW_DASK_WORKERS", "2"))
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
    )


def run_close_of_business(**parameters: Any) -> CobRun:
    """Run the flow with the task runner the environment asks for."""
    runner = task_runner_from_environment()
    runnable = close_of_business.with_options(task_runner=runner) if runner else close_of_business
    return runnable(**parameters)
