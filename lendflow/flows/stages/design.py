"""Stage 3 flow, design (产品设计与开发): the spec positioned against research and policy.

The spec is read, held against the charter and the research that passed their
gates by every registered design check, and reported; the gate's criteria are
the checks' results.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from lendflow.config.product_spec import ProductSpec
from lendflow.domain.criteria import Criterion
from lendflow.flows.stages.steps import STEP, run_stage
from lendflow.lifecycle.inputs import CapturedInput, read_spec
from lendflow.lifecycle.reports import REPORT_FORMAT, chart_records, render
from lendflow.lifecycle.results import RunContext, StageOutcome
from lendflow.lifecycle.runs import StartedRun, passed_outputs
from lendflow.lifecycle.stages.design.context import DesignContext
from lendflow.lifecycle.stages.design.stage import design_outputs, design_report
from lendflow.workspace.context import Workspace


@task(name="load-evidence", **STEP)
def load_evidence_step(code: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """The charter and the research that passed their gates, with their run numbers."""
    from lendflow.flows.runtime import workspace

    ws = workspace()
    return {stage: passed_outputs(ws, code, stage) for stage in ("charter", "research")}


@task(name="read-spec", **STEP)
def read_spec_step(source: CapturedInput, code: str) -> ProductSpec:
    return read_spec(source, code)


@task(name="positioning-checks", **STEP)
def positioning_step(
    context: DesignContext, sha256: str, evidence: dict[str, int]
) -> tuple[dict[str, Any], list[Criterion]]:
    """Amounts, APR, affordability, pricing floor, policy limits, risk controls, loan process
    and documents, each a named check; the documents are kept with the run."""
    from dataclasses import replace

    from lendflow.flows.runtime import workspace

    return design_outputs(replace(context, workspace=workspace()), sha256, evidence)


@task(name="design-report", **STEP)
def design_report_step(
    ctx: RunContext,
    outputs: dict[str, Any],
    criteria: list[Criterion],
    competitors: list[dict[str, Any]],
) -> tuple[bytes, list[dict[str, str]]]:
    view = design_report(ctx, outputs, criteria, competitors)
    return render(view, ctx.locale), chart_records(view)


def _work(ws: Workspace, started: StartedRun, inputs: dict[str, CapturedInput]) -> StageOutcome:
    ctx = started.context
    evidence = load_evidence_step.submit(ctx.code)
    spec = read_spec_step.submit(inputs["spec"], ctx.code).result()
    (charter_run, charter), (research_run, research) = (
        evidence.result()["charter"],
        evidence.result()["research"],
    )
    context = DesignContext(
        code=ctx.code,
        spec=spec,
        source=inputs["spec"].file,
        charter=charter,
        research=research,
        policy=ws.policy,
        version=ctx.version,
        as_of=ctx.as_of,
    )
    outputs, criteria = positioning_step.submit(
        context,
        inputs["spec"].sha256,
        {"charter_run": charter_run, "research_run": research_run},
    ).result()
    report, charts = design_report_step.submit(
        ctx, outputs, criteria, research["competitors"]["benchmark"]
    ).result()
    return StageOutcome(outputs, criteria, report, REPORT_FORMAT, charts)


@flow(name="stage-design")
def design_stage(
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str] | None = None,
    samples: bool = False,
) -> dict[str, Any]:
    """Run the design stage of product `code` and leave it at the design gate."""
    return run_stage("design", code, user, as_of, inputs, samples, _work)
