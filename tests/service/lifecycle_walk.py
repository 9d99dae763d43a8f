"""Taking a product through the lifecycle to its launch, for the tests of stages 5–7.

Stages 1–4 are stood in for (the charter's real outputs, fixed outcomes for the
rest: their own tests run them); the launch's work is done by its services as
its flow does it, and recorded as a run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from lendflow.domain.criteria import Criterion
from lendflow.lifecycle import live_gates
from lendflow.lifecycle import products as product_lifecycle
from lendflow.lifecycle import runs as stage_runs
from lendflow.lifecycle.catalog import stage
from lendflow.lifecycle.inputs import capture_inputs, read_charter
from lendflow.lifecycle.results import GateDecision, StageOutcome, StageRunResult
from lendflow.lifecycle.stages.charter import charter_outputs
from lendflow.lifecycle.stages.launch.inputs import read_campaigns, read_channels
from lendflow.lifecycle.stages.launch.stage import (
    campaign_outputs,
    channel_outputs,
    education_documents,
    launch_context,
    launch_criteria,
    launch_outputs,
    store_campaigns,
)
from lendflow.rendering.product_views import apr_range
from lendflow.workspace.context import Workspace

CREATED = date(2026, 1, 5)
LAUNCHED = date(2026, 6, 15)
PAID_OUT = date(2026, 7, 15)


def fixed(ws: Workspace, code: str, stage_id: str, outputs: dict[str, Any], on: date) -> int:
    """A successful run of `stage_id` with `outputs` (stages 1–4 are tested elsewhere)."""
    inputs = capture_inputs(stage(stage_id), {}, use_samples=True)
    started = stage_runs.start_run(ws, ws.actor("pm"), code, stage_id, inputs, on)
    outcome = StageOutcome(outputs, [Criterion("checked", True, "fine")], b"<html/>", "html", [])
    return stage_runs.finish_run(ws, started, outcome).run


def go(ws: Workspace, code: str, stage_id: str, on: date) -> GateDecision:
    return live_gates.decide(ws, ws.actor("committee1"), code, stage_id, "go", as_of=on)


def walk_to_launch(ws: Workspace, code: str = "anxin") -> None:
    if code == "anxin":
        product_lifecycle.create_product(ws, ws.actor("pm"), code, "安心借", CREATED)
    charter = read_charter(capture_inputs(stage("charter"), {}, use_samples=True)[0])
    fixed(ws, code, "charter", charter_outputs(charter), CREATED)
    go(ws, code, "charter", CREATED)
    for stage_id in ("research", "design", "build_test"):
        fixed(ws, code, stage_id, {}, CREATED)
        go(ws, code, stage_id, CREATED)


def run_launch(
    ws: Workspace, code: str = "anxin", on: date = LAUNCHED, **given: Path
) -> StageRunResult:
    """The launch stage's work, as its flow does it, recorded as a run."""
    captured = capture_inputs(stage("launch"), given, use_samples=True)
    inputs = {c.name: c for c in captured}
    started = stage_runs.start_run(ws, ws.actor("pm"), code, "launch", captured, on)
    context = launch_context(ws, code)
    wanted = read_campaigns(inputs["campaigns"])
    plan = channel_outputs(
        read_channels(inputs["channels"]), wanted.channel_budget, context.targets
    )
    shown = campaign_outputs(wanted, context.spec, on)
    education = education_documents(ws, context.spec, context.version, shown, on)
    outputs = launch_outputs(context, plan, shown, education, apr_range(context.spec))
    criteria = launch_criteria(outputs, on)
    store_campaigns(ws, started.context.run_id, context.version_id, code, shown)
    outcome = StageOutcome(outputs, criteria, b"<html>launch</html>", "html", [])
    return stage_runs.finish_run(ws, started, outcome)


def campaigns_file(tmp_path: Path, budget: str = "300000.00", ends_on: str = "2026-12-31") -> Path:
    path = tmp_path / "campaigns.yaml"
    path.write_text(
        f"""channel_budget: "600000.00"
campaigns:
  - code: first-loan-30
    kind: first_loan_interest_free
    name: {{zh-CN: 首笔借款 30 天免息, en: "First loan: 30 days interest-free"}}
    free_days: 30
    budget: "{budget}"
    starts_on: 2026-06-15
    ends_on: {ends_on}
  - code: referral-2026
    kind: referral
    name: {{zh-CN: 推荐好友得 50 元, en: "Refer a friend, get CNY 50"}}
    reward: "50.00"
    budget: "100.00"
    starts_on: 2026-06-15
    ends_on: {ends_on}
""",
        encoding="utf-8",
    )
    return path
