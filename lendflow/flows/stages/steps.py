"""What every stage flow shares: how its steps retry, and how a run is recorded.

A step is retried when a second try may succeed (a locked database, a network
file system); bad input or a business refusal fails it at once, since the same
file gives the same answer. The run itself is recorded by the service layer in
short transactions before the first step and after the last: no transaction is
held while steps run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from prefect.cache_policies import NO_CACHE

from lendflow.domain.errors import LendflowError
from lendflow.flows.runtime import workspace
from lendflow.lifecycle import live_stages
from lendflow.lifecycle import runs as stage_runs
from lendflow.lifecycle.catalog import stage
from lendflow.lifecycle.inputs import CapturedInput, capture_inputs
from lendflow.lifecycle.results import StageOutcome
from lendflow.lifecycle.runs import StartedRun, fail_run
from lendflow.workspace.context import Workspace


def retry_unless_bad_input(_task: Any, _task_run: Any, state: Any) -> bool:
    """Prefect's retry condition: retry what failed by chance, never what failed by rule."""
    return not isinstance(state.result(raise_on_failure=False), LendflowError)


STEP: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": 1,
    "retry_condition_fn": retry_unless_bad_input,
    # Every run recomputes from its own captured inputs; nothing is cached between runs.
    "cache_policy": NO_CACHE,
}

Work = Callable[[Workspace, StartedRun, dict[str, CapturedInput]], StageOutcome]


def run_stage(
    stage_id: str,
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str] | None,
    samples: bool,
    work: Work,
    *,
    live: bool = False,
) -> dict[str, Any]:
    """Capture the inputs, record the run, do the stage's work, record how it ended.

    A failed step fails the run with its one-line error and re-raises it, so
    the flow run fails too; the product stays where it was. A `live` stage
    (operate, improve) runs on the live version, as often as needed, and leaves
    it live (see lifecycle.live_stages); one recorder (lifecycle.runs) records both.
    """
    ws = workspace()
    actor = live_stages.stage_actor(ws, user) if live else ws.actor(user)
    start = live_stages.start_run if live else stage_runs.start_run
    given = {name: Path(path) for name, path in (inputs or {}).items()}
    captured = capture_inputs(stage(stage_id), given, use_samples=samples)
    started = start(ws, actor, code, stage_id, captured, as_of)
    try:
        outcome = work(ws, started, {c.name: c for c in captured})
        finished = stage_runs.finish_run(ws, started, outcome)
    except LendflowError as exc:
        fail_run(ws, started, exc.message)
        raise
    except Exception as exc:
        fail_run(ws, started, f"{type(exc).__name__}: {exc}")
        raise
    # A flow's result stays plain JSON: Prefect keeps it, the demo's summary writes it.
    result: dict[str, Any] = finished.model_dump(mode="json")
    result["samples"] = [{"name": c.name, "file": c.file} for c in captured if c.from_samples]
    return result
