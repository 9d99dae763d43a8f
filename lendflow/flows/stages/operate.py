"""Stage 6 flow, operate (运营管理与监控): customer service, data monitoring, evaluation.

Runs on the live version for a business date, as often as needed (the monthly
`product-review` deployment runs it for every live product): the book's KPIs and
the service tickets are read in parallel, the evaluation derives alerts and
recommendations, and the review report is stored with the run.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from lendflow.domain.criteria import Criterion
from lendflow.flows.stages.steps import STEP, run_stage
from lendflow.lifecycle.inputs import CapturedInput
from lendflow.lifecycle.live_stages import stage_actor
from lendflow.lifecycle.reports import REPORT_FORMAT, chart_records, render
from lendflow.lifecycle.results import RunContext, StageOutcome
from lendflow.lifecycle.runs import StartedRun
from lendflow.lifecycle.stages.operate import (
    book_kpis,
    operate_criteria,
    operate_outputs,
    operate_report,
)
from lendflow.monitoring.tickets import list_tickets
from lendflow.workspace.context import Workspace


@task(name="customer-service", **STEP)
def customer_service_step(code: str, user: str, as_of: date) -> list[dict[str, Any]]:
    """The product's service tickets, each with its deadline and whether it breached."""
    from lendflow.flows.runtime import workspace

    ws = workspace()
    tickets = list_tickets(ws, stage_actor(ws, user), as_of, product=code)
    return [t.model_dump(mode="json") for t in tickets]


@task(name="data-monitoring", **STEP)
def data_monitoring_step(code: str, user: str, as_of: date) -> dict[str, Any]:
    """KPIs, series, roll rates, vintages and alerts: the product's and each version's."""
    from lendflow.flows.runtime import workspace

    ws = workspace()
    return book_kpis(ws, stage_actor(ws, user), code, as_of)


@task(name="periodic-evaluation", **STEP)
def evaluation_step(
    book: dict[str, Any], tickets: list[dict[str, Any]], as_of: date
) -> tuple[dict[str, Any], list[Criterion]]:
    """Recommendations from the alerts, trends and breaches, and the gate's criteria."""
    outputs = operate_outputs({**book, "tickets": tickets}, as_of)
    return outputs, operate_criteria(outputs)


@task(name="review-report", **STEP)
def review_report_step(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]
) -> tuple[bytes, list[dict[str, str]]]:
    view = operate_report(ctx, outputs, criteria)
    return render(view, ctx.locale), chart_records(view)


def _work(_ws: Workspace, started: StartedRun, _inputs: dict[str, CapturedInput]) -> StageOutcome:
    ctx = started.context
    tickets = customer_service_step.submit(ctx.code, ctx.run_by, ctx.as_of)
    book = data_monitoring_step.submit(ctx.code, ctx.run_by, ctx.as_of)
    outputs, criteria = evaluation_step.submit(book.result(), tickets.result(), ctx.as_of).result()
    report, charts = review_report_step.submit(ctx, outputs, criteria).result()
    return StageOutcome(outputs, criteria, report, REPORT_FORMAT, charts)


@flow(name="stage-operate")
def operate_stage(
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str] | None = None,
    samples: bool = False,
) -> dict[str, Any]:
    """Review live product `code` as of `as_of`; the run waits at the operate gate."""
    return run_stage("operate", code, user, as_of, inputs, samples, _work, live=True)
