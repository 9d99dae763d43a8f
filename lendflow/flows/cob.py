"""The close-of-business flow: the book partitioned by id range, one task per chunk.

Each chunk task closes every date its loans still need (catch-up) up to the
requested date, one transaction per date, so a retried task redoes at most
one date and the watermark makes that a no-op. Chunks are independent, so
they run concurrently on the default task runner, or across processes and
machines on Dask (`lendflow cob run --dask-workers 2`, `--dask-address`, or
`LENDFLOW_TASK_RUNNER=dask`).

A lost worker costs a retry, never a difference in the book: a Dask worker that
dies mid-chunk has its chunk handed to another worker by the scheduler (and the
task's own retries cover a chunk that failed), and a flow run whose process
dies on a work pool is crashed by its worker and scheduled again by the
deployment's automation (`lendflow.flows.deploy`). Either way the rerun finds
the dates the dead process committed already closed, and the one it was inside
rolled back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from lendflow.close_of_business.results import CobRun, SweepCounts
from lendflow.close_of_business.sweep import (
    check_dates,
    close_range,
    finish_run,
    id_ranges,
)
from lendflow.config.cob import CobConfig, load_cob_config
from lendflow.domain.errors import BadInput
from lendflow.flows.runtime import batch_run, workspace
from lendflow.workspace.faults import fault_point

BUSINESS_TIME_ZONE = ZoneInfo("Asia/Shanghai")
SCHEDULER = "scheduler"
# A run is started at most this often: its first go, its flow retry, and reruns
# after its process crashed (`lendflow.flows.deploy`). One that keeps dying
# stops here, failed, for a person to look at.
MOST_RUNS = 4

# Set by an interactive caller (the CLI) to follow chunks as they finish.
on_chunk_done: Callable[[int, int], None] | None = None


@task(retries=2, retry_delay_seconds=2)
def close_chunk(
    lo: int, hi: int, first: date, last: date, actor: str, config_path: str | None = None
) -> SweepCounts:
    """Close dates up to `last` for loans with ids in [lo, hi]."""
    fault_point("cob.flow_chunk")  # a worker lost as it takes up a chunk
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
    _refuse_endless_reruns()
    first = as_of or previous_business_date()
    last = to or first
    check_dates(first, last, today or last)
    config = load_cob_config(Path(config_path) if config_path else None)
    ws = workspace()
    ranges = id_ranges(ws, chunk_size or config.chunk_size)
    totals = SweepCounts()
    submit = partial(
        close_chunk.submit, first=first, last=last, actor=actor, config_path=config_path
    )
    chunks = _closed(ranges, submit, _window(config))
    for done, counts in enumerate(chunks, start=1):
        totals += counts
        if on_chunk_done is not None:
            on_chunk_done(done, len(ranges))
    return finish_run(ws, first, last, len(ranges), totals, actor)


def _window(config: CobConfig) -> int | None:
    """How many chunks to keep in flight: `CobConfig.chunks_at_once` on Prefect's threads,
    which would otherwise start every chunk at once; None (all) on a runner with workers
    of its own, such as Dask, whose workers take one chunk each."""
    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    return config.chunks_at_once() if isinstance(runner, ThreadPoolTaskRunner) else None


def _closed(
    ranges: list[tuple[int, int]],
    submit: Callable[..., PrefectFuture[SweepCounts]],
    window: int | None,
) -> Iterator[SweepCounts]:
    """Each chunk's counts as it finishes, with at most `window` chunks in flight (None:
    every chunk submitted at once); a new chunk starts as soon as one ends.

    Waiting on the chunks in flight again after each one ends costs a callback per chunk
    in flight: cheap for a few threads, not for a Dask cluster's thousand chunks, which
    are therefore waited on once."""
    if window is None:
        for future in as_completed([submit(lo, hi) for lo, hi in ranges]):
            yield future.result()
        return
    waiting = list(reversed(ranges))
    in_flight: list[PrefectFuture[SweepCounts]] = []
    while waiting or in_flight:
        while waiting and len(in_flight) < window:
            lo, hi = waiting.pop()
            in_flight.append(submit(lo, hi))
        finished = next(as_completed(in_flight))
        in_flight.remove(finished)
        yield finished.result()


def _refuse_endless_reruns() -> None:
    from prefect.runtime import flow_run

    runs = flow_run.run_count
    if runs > MOST_RUNS:
        raise RuntimeError(
            f"close of business started {runs} times without finishing; "
            "look at the workers' logs before running it again"
        )


def task_runner(dask_workers: int | None = None, dask_address: str | None = None) -> Any:
    """The task runner for the chunks: Prefect's threads unless Dask is asked for.

    `dask_address` (tcp://scheduler:8786) sends the chunks to a running Dask
    cluster, which is how the sweep scales past one machine; `dask_workers`
    starts a local cluster of that many worker processes, one thread each, so a
    worker that dies takes one chunk with it. Without either, the environment
    decides (`LENDFLOW_TASK_RUNNER`, `LENDFLOW_DASK_ADDRESS`, `LENDFLOW_DASK_WORKERS`).
    """
    if dask_address and dask_workers:
        raise BadInput("give --dask-workers or --dask-address, not both")
    if dask_workers is not None and dask_workers < 1:
        raise BadInput(f"--dask-workers must be at least 1, got {dask_workers}")
    if dask_address is None and dask_workers is None:
        return task_runner_from_environment()
    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": dask_workers, "threads_per_worker": 1, "processes": True}
    )


def task_runner_from_environment() -> Any:
    """The task runner LENDFLOW_TASK_RUNNER names: default threads, or `dask`.

    `dask` starts a local cluster unless LENDFLOW_DASK_ADDRESS names a running
    scheduler (tcp://host:8786).
    """
    name = os.environ.get("LENDFLOW_TASK_RUNNER", "default")
    if name == "default":
        return None
    if name != "dask":
        raise BadInput(f"LENDFLOW_TASK_RUNNER must be default or dask, got {name!r}")
    address = os.environ.get("LENDFLOW_DASK_ADDRESS")
    if address:
        return task_runner(dask_address=address)
    workers = os.environ.get("LENDFLOW_DASK_WORKERS", "2")
    if not workers.isdigit():
        raise BadInput(f"LENDFLOW_DASK_WORKERS must be a whole number, got {workers!r}")
    return task_runner(dask_workers=int(workers))


def close_one_date(
    day: date, actor: str, today: date, on_start: Callable[[str], None] | None = None
) -> tuple[str, CobRun]:
    """Close one business date as a flow run of its own (without heartbeats, as a batch
    run): the flow run's id and its report. `on_start` hears the id as the run starts.

    The API closes a range this way, a date at a time, so a server that is stopping
    ends between two closed dates; the flow's error, if it fails, is raised here.
    """
    hooks = [] if on_start is None else [_started(on_start)]
    runner = task_runner_from_environment()
    runnable = close_of_business.with_options(on_running=hooks)
    if runner is not None:
        runnable = runnable.with_options(task_runner=runner)
    with batch_run():
        state = runnable(as_of=day, to=day, actor=actor, today=today, return_state=True)
    report: CobRun = state.result()
    return str(state.state_details.flow_run_id), report


def _started(on_start: Callable[[str], None]) -> Callable[..., None]:
    def hook(_flow: Any, flow_run: Any, _state: Any) -> None:
        on_start(str(flow_run.id))

    return hook


def run_close_of_business(runner: Any = None, **parameters: Any) -> CobRun:
    """Run the flow on `runner`, or on the task runner the environment asks for."""
    runner = runner or task_runner_from_environment()
    runnable = close_of_business.with_options(task_runner=runner) if runner else close_of_business
    return runnable(**parameters)
