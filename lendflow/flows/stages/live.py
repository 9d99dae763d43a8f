"""How the stages of a live product run: on the live version, as often as needed.

As `steps.run_stage` does for the pipeline, a run is recorded before the first
step and after the last, in short transactions; but the run belongs to the
version that is live, and success leaves it live with the run waiting at the
stage's gate (see services.live_stages).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from lendflow.domain.errors import LendflowError
from lendflow.flows.runtime import workspace
from lendflow.flows.stages.steps import Work
from lendflow.services import live_stages
from lendflow.services.stage_catalog import stage
from lendflow.services.stage_inputs import capture_inputs
from lendflow.services.stage_runs import fail_run


def run_live_stage(
    stage_id: str,
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str] | None,
    samples: bool,
    work: Work,
) -> dict[str, Any]:
    """Capture the inputs, record the run on the live version, work, record how it ended."""
    ws = workspace()
    actor = live_stages.stage_actor(ws, user)
    given = {name: Path(path) for name, path in (inputs or {}).items()}
    captured = capture_inputs(stage(stage_id), given, use_samples=samples)
    started = live_stages.start_run(ws, actor, code, stage_id, captured, as_of)
    try:
        outcome = work(ws, started, {c.name: c for c in captured})
        result = live_stages.finish_run(ws, started, outcome)
    except LendflowError as exc:
        fail_run(ws, started, exc.message)
        raise
    except Exception as exc:
        fail_run(ws, started, f"{type(exc).__name__}: {exc}")
        raise
    result["samples"] = [{"name": c.name, "file": c.file} for c in captured if c.from_samples]
    return result
