"""Stage 5 flow, launch (产品推广与市场营销): channel plan, campaigns, customer education.

The two inputs are read in parallel with the version's spec and charter; the
channel plan, the campaigns and the education material follow; the campaigns
are kept as promotion rules (they apply once this run passes the launch gate),
then the gate criteria and the report.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from lendflow.domain.channels import Channel
from lendflow.domain.criteria import Criterion
from lendflow.flows.stages.steps import STEP, run_stage
from lendflow.lifecycle.inputs import CapturedInput
from lendflow.lifecycle.reports import REPORT_FORMAT, chart_records, render
from lendflow.lifecycle.results import RunContext, StageOutcome
from lendflow.lifecycle.runs import StartedRun
from lendflow.lifecycle.stages.launch.inputs import LaunchCampaigns, read_campaigns, read_channels
from lendflow.lifecycle.stages.launch.stage import (
    LaunchContext,
    campaign_outputs,
    channel_outputs,
    education_documents,
    launch_context,
    launch_criteria,
    launch_outputs,
    launch_report,
    store_campaigns,
)
from lendflow.rendering.product_views import apr_range
from lendflow.workspace.context import Workspace


@task(name="load-spec-and-charter", **STEP)
def load_context_step(code: str) -> LaunchContext:
    """The spec the design gate let through and the charter's target segments."""
    from lendflow.flows.runtime import workspace

    return launch_context(workspace(), code)


@task(name="read-channels", **STEP)
def read_channels_step(source: CapturedInput) -> list[Channel]:
    return read_channels(source)


@task(name="read-campaigns", **STEP)
def read_campaigns_step(source: CapturedInput) -> LaunchCampaigns:
    return read_campaigns(source)


@task(name="channel-plan", **STEP)
def channel_plan_step(
    channels: list[Channel], budget: int, targets: tuple[str, ...]
) -> dict[str, Any]:
    """Channels ranked by target applications per yuan, the budget spent down the ranking."""
    return channel_outputs(channels, budget, targets)


@task(name="campaigns", **STEP)
def campaigns_step(
    given: LaunchCampaigns, context: LaunchContext, as_of: date
) -> list[dict[str, Any]]:
    """The campaigns as promotion rules, with the example loan's waiver."""
    return campaign_outputs(given, context.spec, as_of)


@task(name="customer-education", **STEP)
def education_step(
    context: LaunchContext, campaigns: list[dict[str, Any]], as_of: date
) -> dict[str, dict[str, dict[str, Any]]]:
    """The education material, in every locale, through the documents module."""
    from lendflow.flows.runtime import workspace

    return education_documents(workspace(), context.spec, context.version, campaigns, as_of)


@task(name="keep-campaigns", **STEP)
def keep_campaigns_step(
    run_id: int, context: LaunchContext, campaigns: list[dict[str, Any]]
) -> list[int]:
    from lendflow.flows.runtime import workspace

    return store_campaigns(workspace(), run_id, context.version_id, context.code, campaigns)


@task(name="launch-report", **STEP)
def launch_report_step(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion], names: dict[str, str]
) -> tuple[bytes, list[dict[str, str]]]:
    view = launch_report(ctx, outputs, criteria, names)
    return render(view, ctx.locale), chart_records(view)


def _work(_ws: Workspace, started: StartedRun, inputs: dict[str, CapturedInput]) -> StageOutcome:
    ctx = started.context
    context_future = load_context_step.submit(ctx.code)
    channels_future = read_channels_step.submit(inputs["channels"])
    given_future = read_campaigns_step.submit(inputs["campaigns"])
    context, channels, given = (
        context_future.result(),
        channels_future.result(),
        given_future.result(),
    )
    plan = channel_plan_step.submit(channels, given.channel_budget, context.targets)
    campaigns = campaigns_step.submit(given, context, ctx.as_of).result()
    education = education_step.submit(context, campaigns, ctx.as_of)
    outputs = launch_outputs(
        context, plan.result(), campaigns, education.result(), apr_range(context.spec)
    )
    criteria = launch_criteria(outputs, ctx.as_of)
    keep_campaigns_step.submit(ctx.run_id, context, campaigns).result()
    report, charts = launch_report_step.submit(
        ctx, outputs, criteria, context.segment_names
    ).result()
    return StageOutcome(outputs, criteria, report, REPORT_FORMAT, charts)


@flow(name="stage-launch")
def launch_stage(
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str] | None = None,
    samples: bool = False,
) -> dict[str, Any]:
    """Run the launch stage of product `code` and leave it at the launch gate."""
    return run_stage("launch", code, user, as_of, inputs, samples, _work)
