"""Stage 7 flow, improve (反馈与改进机制): feedback, internal review, improvement plan.

Runs on the live version, as often as needed: the three inputs and the live
spec are read in parallel, the KPIs of the day are attached to the minutes, and
the plan is applied to a copy of the live spec. A recycle to design at this
stage's gate turns that copy into the next version (see lifecycle.succession).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from lendflow.domain.criteria import Criterion
from lendflow.domain.feedback import FeedbackResponse
from lendflow.flows.stages.steps import STEP, run_stage
from lendflow.lifecycle.inputs import CapturedInput
from lendflow.lifecycle.live_stages import stage_actor
from lendflow.lifecycle.reports import REPORT_FORMAT, chart_records, render
from lendflow.lifecycle.results import RunContext, StageOutcome
from lendflow.lifecycle.runs import StartedRun
from lendflow.lifecycle.stages.improve.inputs import (
    ImprovementPlan,
    Minutes,
    read_feedback,
    read_minutes,
    read_plan,
)
from lendflow.lifecycle.stages.improve.stage import (
    LiveSpec,
    feedback_outputs,
    improve_criteria,
    improve_report,
    live_spec,
    minutes_outputs,
    plan_outputs,
)
from lendflow.monitoring.kpis import product_kpis
from lendflow.workspace.context import Workspace


@task(name="read-feedback", **STEP)
def read_feedback_step(source: CapturedInput) -> list[FeedbackResponse]:
    return read_feedback(source)


@task(name="read-minutes", **STEP)
def read_minutes_step(source: CapturedInput) -> Minutes:
    return read_minutes(source)


@task(name="read-plan", **STEP)
def read_plan_step(source: CapturedInput) -> ImprovementPlan:
    return read_plan(source)


@task(name="load-live-spec", **STEP)
def live_spec_step(code: str) -> LiveSpec:
    from lendflow.flows.runtime import workspace

    return live_spec(workspace(), code)


@task(name="feedback-collection", **STEP)
def feedback_step(responses: list[FeedbackResponse]) -> dict[str, Any]:
    """NPS, ratings and the themes comments keep raising."""
    return feedback_outputs(responses)


@task(name="internal-review", **STEP)
def internal_review_step(minutes: Minutes, code: str, user: str, as_of: date) -> dict[str, Any]:
    """The minutes' decisions and owners, with the KPIs of the day attached."""
    from lendflow.flows.runtime import workspace

    ws = workspace()
    kpis = product_kpis(ws, stage_actor(ws, user), code, as_of)
    return minutes_outputs(minutes, kpis.model_dump(mode="json"))


@task(name="continuous-improvement", **STEP)
def improvement_step(
    live: LiveSpec, plan: ImprovementPlan, source: CapturedInput, code: str, run_id: int
) -> dict[str, Any]:
    """The plan applied to a copy of the live spec, checked against the policy."""
    from lendflow.flows.runtime import workspace

    return plan_outputs(live, plan, source, workspace().policy, code, run_id)


@task(name="improvement-report", **STEP)
def improvement_report_step(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]
) -> tuple[bytes, list[dict[str, str]]]:
    view = improve_report(ctx, outputs, criteria)
    return render(view, ctx.locale), chart_records(view)


def _work(_ws: Workspace, started: StartedRun, inputs: dict[str, CapturedInput]) -> StageOutcome:
    ctx = started.context
    responses_read = read_feedback_step.submit(inputs["feedback"])
    minutes_read = read_minutes_step.submit(inputs["minutes"])
    plan_read = read_plan_step.submit(inputs["plan"])
    live_read = live_spec_step.submit(ctx.code)
    responses, minutes, plan, live = (
        responses_read.result(),
        minutes_read.result(),
        plan_read.result(),
        live_read.result(),
    )
    feedback = feedback_step.submit(responses)
    review = internal_review_step.submit(minutes, ctx.code, ctx.run_by, ctx.as_of)
    improvement = improvement_step.submit(live, plan, inputs["plan"], ctx.code, ctx.run_id)
    outputs = {
        "feedback": feedback.result(),
        "minutes": review.result(),
        "plan": improvement.result(),
    }
    criteria = improve_criteria(outputs)
    report, charts = improvement_report_step.submit(ctx, outputs, criteria).result()
    return StageOutcome(outputs, criteria, report, REPORT_FORMAT, charts)


@flow(name="stage-improve")
def improve_stage(
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str] | None = None,
    samples: bool = False,
) -> dict[str, Any]:
    """Run the improvement stage of live product `code`; the run waits at its gate."""
    return run_stage("improve", code, user, as_of, inputs, samples, _work, live=True)
