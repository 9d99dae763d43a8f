"""Products and their lifecycle over /api/v1: each route parses, calls the use case the
`product`, `stage`, `gate` and `kpi` commands call, and serves its result model's JSON.

A stage run is long work: `stage_runs.start_run` checks what would refuse it at once,
starts the stage's Prefect flow in a thread of its own and returns once the flow has
recorded the run, so the API answers 202 and the run's state is read while it goes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from lendflow.access.permissions import Actor
from lendflow.domain import bounds
from lendflow.domain.errors import NotFound
from lendflow.lifecycle.results import (
    GateDecision,
    GateView,
    ProductPipeline,
    ProductSummary,
    ProductVersions,
    RunView,
)
from lendflow.monitoring.results import ProductKpis
from lendflow.web.auth import Acting, Ws
from lendflow.web.bodies import Code, Dated, Note
from lendflow.web.loans import Limit, Offset, business_date, served
from lendflow.web.problems import documented
from lendflow.web.stage_inputs import REQUEST_BODY, RunInputs, StagedFiles, check_inputs, run_inputs
from lendflow.web.stage_runs import checked_code, checked_stage, find_run, gate_at, start_run
from lendflow.workspace.context import Workspace

router = APIRouter(responses=documented(400, 401, 403, 404, 409, 413, 422, 500), tags=["products"])

ProductCode = Annotated[
    str, Path(min_length=1, max_length=64, description="Product code.", examples=["anxin"])
]
Stage = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        description="charter, research, design, build_test, launch, operate or improve.",
    ),
]
RunNumber = Annotated[int, Path(ge=1, le=bounds.MAX_ID, description="Run number.")]


class ProductPage(BaseModel):
    total: int
    items: list[ProductSummary]


class ProductDetail(BaseModel):
    """`product show --json` (the pipeline of the newest version) and `product versions`."""

    pipeline: ProductPipeline
    versions: ProductVersions


class StageRun(RunView):
    """A stage run (`stage show`'s row) with its outputs once it succeeded and a link to
    its report once one is stored."""

    code: str
    outputs: Any = None
    report: str | None = None


class DecisionBody(Dated):
    decision: Literal["go", "kill", "hold", "recycle", "resume"]
    note: Note | None = Field(default=None, description="Why (a hold needs one).")
    to: Code | None = Field(default=None, description="For recycle: the stage to go back to.")


@router.get("/products", response_model=ProductPage)
def list_products(
    ws: Ws,
    actor: Acting,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Any:
    """Every product, its newest version and where that stands (`lendflow product list`)."""
    from lendflow.lifecycle.products import list_products as listed

    rows = listed(ws, actor)
    page = ProductPage(total=len(rows), items=rows[offset : offset + limit])
    return served(page)


@router.get("/products/{code}", response_model=ProductDetail)
def show_product(code: ProductCode, ws: Ws, actor: Acting) -> Any:
    """The pipeline of the newest version and every version (`product show`, `versions`)."""
    from lendflow.lifecycle.products import product_pipeline, product_versions_view

    code = checked_code(code)
    pipeline = product_pipeline(ws, actor, code, None)
    return served(ProductDetail(pipeline=pipeline, versions=product_versions_view(ws, actor, code)))


@router.get("/products/{code}/kpis", response_model=ProductKpis)
def kpis(
    code: ProductCode,
    ws: Ws,
    actor: Acting,
    as_of: Annotated[date | None, Query(description="Default: today, Asia/Shanghai.")] = None,
) -> Any:
    """The product's portfolio indicators on a day (`lendflow kpi show`)."""
    from lendflow.monitoring.kpis import product_kpis

    return served(product_kpis(ws, actor, checked_code(code), business_date(ws, None, as_of)))


@router.get("/products/{code}/gates/{stage}", response_model=GateView)
def show_gate(code: ProductCode, stage: Stage, ws: Ws, actor: Acting) -> Any:
    """The run waiting at a stage's gate, its criteria passed or failed with their figures
    (`lendflow gate show`); 404 when no run of the product waits at that gate."""
    from lendflow.lifecycle.live_gates import gate_view

    code, stage = checked_code(code), checked_stage(stage)
    found = gate_at(gate_view(ws, actor, code), stage)
    if found is None:
        raise NotFound(f"no run of {code} waits at the {stage} gate")
    return served(found)


@router.post("/products/{code}/gates/{stage}/decisions", response_model=GateDecision)
def decide(code: ProductCode, stage: Stage, body: DecisionBody, ws: Ws, actor: Acting) -> Any:
    """Decide a stage's gate (`lendflow gate decide`): the product committee, never the
    person who ran the stage (four eyes, held by the use case)."""
    from lendflow.lifecycle.live_gates import decide as decide_gate

    result = decide_gate(
        ws,
        actor,
        checked_code(code),
        checked_stage(stage),
        body.decision,
        to=body.to,
        note=body.note or "",
        as_of=business_date(ws, body, None),
    )
    return served(result)


def _run_url(code: str, stage: str, run: int) -> str:
    return f"/api/v1/products/{code}/stages/{stage}/runs/{run}"


@router.post(
    "/products/{code}/stages/{stage}/runs",
    status_code=202,
    response_model=StageRun,
    responses={202: {"headers": {"Location": {"description": "The run."}}}},
    openapi_extra={"requestBody": REQUEST_BODY},
)
def start_stage_run(
    code: ProductCode,
    stage: Stage,
    asked: Annotated[RunInputs, Depends(run_inputs)],
    ws: Ws,
    actor: Acting,
) -> Any:
    """Start a stage's flow (`lendflow stage run`) on the files sent, one per input as
    multipart/form-data, and the shipped samples for the rest when `samples` is true; 202
    with the run, whose state is then read at its Location. A successful run waits at the
    gate."""
    from lendflow.lifecycle.catalog import stage as stage_of

    code, stage = checked_code(code), checked_stage(stage)
    as_of = business_date(ws, None, asked.business_date)
    check_inputs(stage_of(stage), asked)
    files = StagedFiles(asked.uploads)  # removed once the flow has read them, or refused
    run = start_run(
        ws, actor, code, stage, as_of, files.given(), samples=asked.samples, uploads=files.folder
    )
    view = _stage_run(ws, actor, code, stage, run)
    return served(view, 202, {"Location": _run_url(code, stage, run)})


def _stage_run(ws: Workspace, actor: Actor, code: str, stage: str, run: int) -> StageRun:
    from lendflow.lifecycle.live_stages import run_outputs

    view = find_run(ws, actor, code, stage, run)
    outputs = None
    if view.status == "succeeded":
        newest, produced = run_outputs(ws, actor, code, stage)
        outputs = produced if newest == run else None
    report = f"{_run_url(code, stage, run)}/report" if view.report_format else None
    return StageRun(**view.model_dump(), code=code, outputs=outputs, report=report)


@router.get("/products/{code}/stages/{stage}/runs/{run}", response_model=StageRun)
def show_stage_run(code: ProductCode, stage: Stage, run: RunNumber, ws: Ws, actor: Acting) -> Any:
    """A run's state (running, succeeded, failed), inputs, criteria, outputs, report link."""
    return served(_stage_run(ws, actor, checked_code(code), checked_stage(stage), run))


@router.get(
    "/products/{code}/stages/{stage}/runs/{run}/report",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}},
)
def stage_run_report(
    code: ProductCode, stage: Stage, run: RunNumber, ws: Ws, actor: Acting
) -> Response:
    """The run's stored report as written (`lendflow stage report`)."""
    from lendflow.lifecycle.live_stages import stored_report

    view, data = stored_report(ws, actor, checked_code(code), checked_stage(stage), run)
    html = view.report_format == "html"
    media = "text/html; charset=utf-8" if html else "application/octet-stream"
    return Response(data, media_type=media)
