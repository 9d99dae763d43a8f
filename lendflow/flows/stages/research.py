"""Stage 2 flow, research (市场调研与需求分析): customers, competitors, market → report.

The three inputs are read in parallel; the demand analysis, the competitor
benchmark and the market forecast follow, then the gate criteria and the report.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from prefect import flow, task

from lendflow.domain.criteria import Criterion
from lendflow.domain.research import Competitor, SurveyResponse
from lendflow.flows.stages.steps import STEP, run_stage
from lendflow.lifecycle.inputs import (
    CapturedInput,
    read_competitors,
    read_market,
    read_survey,
)
from lendflow.lifecycle.reports import REPORT_FORMAT, chart_records, render
from lendflow.lifecycle.results import RunContext, StageOutcome
from lendflow.lifecycle.runs import StartedRun, passed_outputs
from lendflow.lifecycle.stages.research import (
    competitor_benchmark,
    market_trends,
    research_criteria,
    research_report,
    target_customers,
)
from lendflow.workspace.context import Workspace


@task(name="load-charter", **STEP)
def load_charter_step(code: str) -> dict[str, Any]:
    """The charter that passed its gate: the target segments research measures."""
    from lendflow.flows.runtime import workspace

    return passed_outputs(workspace(), code, "charter")[1]


@task(name="read-survey", **STEP)
def read_survey_step(source: CapturedInput) -> list[SurveyResponse]:
    return read_survey(source)


@task(name="read-competitors", **STEP)
def read_competitors_step(source: CapturedInput) -> list[Competitor]:
    return read_competitors(source)


@task(name="market-trends", **STEP)
def market_trends_step(source: CapturedInput) -> dict[str, Any]:
    """Growth of the market and its 12-month forecast with an interval."""
    return market_trends(read_market(source))


@task(name="target-customers", **STEP)
def target_customers_step(
    survey: list[SurveyResponse], segments: list[str], debt_service_cap: Decimal
) -> dict[str, Any]:
    """Demand by segment, the target demand band and the affordable instalment."""
    return target_customers(survey, segments, debt_service_cap)


@task(name="competitor-benchmark", **STEP)
def competitor_benchmark_step(
    competitors: list[Competitor], survey: list[SurveyResponse], segments: list[str], cap: Decimal
) -> dict[str, Any]:
    """The benchmark table, APR percentiles and gaps to position into."""
    return competitor_benchmark(competitors, survey, segments, cap)


@task(name="research-report", **STEP)
def research_report_step(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion], names: dict[str, str]
) -> tuple[bytes, list[dict[str, str]]]:
    view = research_report(ctx, outputs, criteria, names)
    return render(view, ctx.locale), chart_records(view)


def _work(ws: Workspace, started: StartedRun, inputs: dict[str, CapturedInput]) -> StageOutcome:
    ctx = started.context
    charter = load_charter_step.submit(ctx.code)
    survey = read_survey_step.submit(inputs["survey"])
    competitors = read_competitors_step.submit(inputs["competitors"])
    market = market_trends_step.submit(inputs["market"])
    survey_rows, competitor_rows, market_outputs = (
        survey.result(),
        competitors.result(),
        market.result(),
    )
    segments = [s["code"] for s in charter.result()["target_segments"]]
    names = {s["code"]: s["name"] for s in charter.result()["target_segments"]}
    policy = ws.policy
    customers = target_customers_step.submit(
        survey_rows, segments, policy.affordability.limit_for(ctx.code)
    )
    benchmark = competitor_benchmark_step.submit(
        competitor_rows, survey_rows, segments, policy.apr_cap.limit
    )
    outputs = {
        "customers": customers.result(),
        "competitors": benchmark.result(),
        "market": market_outputs,
    }
    criteria = research_criteria(outputs, policy.product_gates)
    report, charts = research_report_step.submit(ctx, outputs, criteria, names).result()
    return StageOutcome(outputs, criteria, report, REPORT_FORMAT, charts)


@flow(name="stage-research")
def research_stage(
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str] | None = None,
    samples: bool = False,
) -> dict[str, Any]:
    """Run the research stage of product `code` and leave it at the research gate."""
    return run_stage("research", code, user, as_of, inputs, samples, _work)
