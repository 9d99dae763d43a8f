"""Stage 1 flow, charter (制定目的及范围): read the charter, check it, write the document."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from lendflow.flows.stages.steps import STEP, run_stage
from lendflow.lifecycle.inputs import CapturedInput, Charter, read_charter
from lendflow.lifecycle.reports import REPORT_FORMAT, chart_records, render
from lendflow.lifecycle.results import RunContext, StageOutcome
from lendflow.lifecycle.runs import StartedRun
from lendflow.lifecycle.stages.charter import charter_criteria, charter_outputs, charter_report
from lendflow.workspace.context import Workspace


@task(name="read-charter", **STEP)
def read_charter_step(source: CapturedInput) -> Charter:
    """Objective, target segments and scope, validated."""
    return read_charter(source)


@task(name="charter-document", **STEP)
def charter_document_step(ctx: RunContext, charter: Charter) -> StageOutcome:
    """The charter's outputs, its gate criteria and the rendered charter document."""
    outputs = charter_outputs(charter)
    criteria = charter_criteria(charter)
    view = charter_report(ctx, outputs, criteria)
    return StageOutcome(
        outputs, criteria, render(view, ctx.locale), REPORT_FORMAT, chart_records(view)
    )


def _work(_ws: Workspace, started: StartedRun, inputs: dict[str, CapturedInput]) -> StageOutcome:
    charter = read_charter_step.submit(inputs["charter"]).result()
    return charter_document_step.submit(started.context, charter).result()


@flow(name="stage-charter")
def charter_stage(
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str] | None = None,
    samples: bool = False,
) -> dict[str, Any]:
    """Run the charter stage of product `code` and leave it at the charter gate."""
    return run_stage("charter", code, user, as_of, inputs, samples, _work)
