"""One Prefect flow per lifecycle stage; each stage's steps are its tasks.

`stage_flow` finds a stage's flow by name, importing it only when asked, so a
command that runs one stage never loads the others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from importlib import import_module
from typing import Any

STAGE_FLOWS: dict[str, str] = {
    "charter": "lendflow.flows.stages.charter:charter_stage",
    "research": "lendflow.flows.stages.research:research_stage",
    "design": "lendflow.flows.stages.design:design_stage",
    "build_test": "lendflow.flows.stages.build_test:build_test_stage",
    "launch": "lendflow.flows.stages.launch:launch_stage",
    "operate": "lendflow.flows.stages.operate:operate_stage",
    "improve": "lendflow.flows.stages.improve:improve_stage",
}
"""Stage id -> "module:flow". A stage missing here has no flow to run yet."""


def stage_flow(stage_id: str) -> Callable[..., dict[str, Any]] | None:
    """The flow that runs `stage_id`, or None when this installation has none for it."""
    target = STAGE_FLOWS.get(stage_id)
    if target is None:
        return None
    module, name = target.split(":")
    flow: Callable[..., dict[str, Any]] = getattr(import_module(module), name)
    return flow


def run_stage_flow(
    stage_id: str,
    *,
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str],
    samples: bool,
    api_url: str | None = None,
) -> dict[str, Any]:
    """Run `stage_id`'s flow as a batch (`runtime.batch_run`: heartbeats off, reporting to
    `api_url` when given): the one way the command line, the API and the workspace's
    server run a stage. Refused when this installation has no flow for it."""
    from lendflow.domain.errors import Refused
    from lendflow.flows.runtime import batch_run

    flow = stage_flow(stage_id)
    if flow is None:
        raise Refused(f"stage {stage_id} has no flow in this installation yet")
    with batch_run(api_url):
        return flow(code=code, user=user, as_of=as_of, inputs=inputs, samples=samples)
