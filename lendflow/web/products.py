"""Products and their lifecycle over /api/v1: each route parses, calls the use case the
`product`, `stage`, `gate` and `kpi` commands call, and serves its result model's JSON.

A stage run is long work: the request checks what would refuse it at once (the user's
right, the stage's order, the inputs), starts the stage's Prefect flow in a thread of
its own and answers 202 as soon as the flow has recorded the run, whose state
(`lifecycle.runs`: running, succeeded, failed) is then readable while it goes.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from lendflow.access.permissions import Actor
from lendflow.domain import bounds
from lendflow.domain.errors import NotFound, Refused
from lendflow.flows.environment import prepare_prefect
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
from lendflow.web.problems import documented, log
from lendflow.web.stage_inputs import (
    REQUEST_BODY,
    RunInputs,
    StagedFiles,
    check_inputs,
    run_inputs,
)
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
RUN_STARTS_WITHIN = 120.0
"""Seconds a request waits for the flow to record its run (Prefect may be starting)."""


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


def _code(code: str) -> str:
    return bounds.check_code(code, field="code")


def _stage(stage: str) -> str:
    """A stage in the path names a resource: one that does not exist is 404."""
    from lendflow.domain.errors import BadInput
    from lendflow.lifecycle.catalog import stage as stage_of

    try:
        return stage_of(bounds.check_code(stage, field="stage")).id
    except BadInput as bad:
        raise NotFound(bad.message) from None


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

    code = _code(code)
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

    return served(product_kpis(ws, actor, _code(code), business_date(ws, None, as_of)))


@router.get("/products/{code}/gates/{stage}", response_model=GateView)
def show_gate(code: ProductCode, stage: Stage, ws: Ws, actor: Acting) -> Any:
    """The run waiting at a stage's gate, its criteria passed or failed with their figures
    (`lendflow gate show`); 404 when no run of the product waits at that gate."""
    from lendflow.lifecycle.live_gates import gate_view

    code, stage = _code(code), _stage(stage)
    view = gate_view(ws, actor, code)
    if view.stage == stage and view.run is not None:
        return served(view)
    for live in view.live_gates:
        if live.stage == stage:
            shown = live.model_dump(exclude={"code"})
            return served(view.model_copy(update={**shown, "criteria": live.criteria}))
    raise NotFound(f"no run of {code} waits at the {stage} gate")


@router.post("/products/{code}/gates/{stage}/decisions", response_model=GateDecision)
def decide(code: ProductCode, stage: Stage, body: DecisionBody, ws: Ws, actor: Acting) -> Any:
    """Decide a stage's gate (`lendflow gate decide`): the product committee, never the
    person who ran the stage (four eyes, held by the use case)."""
    from lendflow.lifecycle.live_gates import decide as decide_gate

    result = decide_gate(
        ws,
        actor,
        _code(code),
        _stage(stage),
        body.decision,
        to=body.to,
        note=body.note or "",
        as_of=business_date(ws, body, None),
    )
    return served(result)


def _run_url(code: str, stage: str, run: int) -> str:
    return f"/api/v1/products/{code}/stages/{stage}/runs/{run}"


def _newest_run(ws: Workspace, actor: Actor, code: str, stage: str) -> int:
    from lendflow.lifecycle.live_stages import stage_history

    return max((r.run for r in stage_history(ws, actor, code, stage).runs), default=0)


def _flow_call(
    code: str, stage: str, user: str, as_of: date, files: StagedFiles, samples: bool
) -> dict[str, Any]:
    from lendflow.flows.runtime import batch_run
    from lendflow.flows.stages import stage_flow

    flow = stage_flow(stage)
    if flow is None:  # checked before the thread starts; kept for the type
        raise Refused(f"stage {stage} has no flow in this installation yet")
    with batch_run():
        return flow(code=code, user=user, as_of=as_of, inputs=files.paths, samples=samples)


def _await_record(
    ws: Workspace, actor: Actor, code: str, stage: str, before: int, running: Future[Any]
) -> int:
    """The run the flow recorded (the first newer than `before` by this user); a flow that
    failed before recording one raises its error here."""
    from lendflow.lifecycle.live_stages import stage_history

    deadline = time.monotonic() + RUN_STARTS_WITHIN
    while time.monotonic() < deadline:
        mine = [
            r.run
            for r in stage_history(ws, actor, code, stage).runs
            if r.run > before and r.run_by == actor.name
        ]
        if mine:
            return min(mine)
        if running.done():
            running.result()  # raises the flow's own error
            raise Refused(f"the {stage} run of {code} ended without recording a run")
        time.sleep(0.1)
    raise Refused(
        f"the {stage} run of {code} has not recorded its start after {RUN_STARTS_WITHIN:.0f} s;"
        f" it will appear among the stage's runs when it does"
    )


def _start_in_background(
    code: str, stage: str, user: str, as_of: date, files: StagedFiles, samples: bool
) -> Future[Any]:
    """Run the flow in a thread of its own (never a bounded pool, where a run could wait
    unseen behind others); a server stopping waits for it, so no run is left running.
    The sent files go once the flow has ended."""
    outcome: Future[Any] = Future()

    def work() -> None:
        try:
            outcome.set_result(_flow_call(code, stage, user, as_of, files, samples))
        except BaseException as exc:  # the run records its own failure; the log says so too
            log.warning("%s run of %s failed: %s", stage, code, exc)
            outcome.set_exception(exc)
        finally:
            files.remove()

    threading.Thread(target=work, name=f"stage-run-{code}-{stage}").start()
    return outcome


_start_lock = threading.Lock()


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
    from lendflow.flows.stages import stage_flow
    from lendflow.lifecycle.catalog import stage as stage_of
    from lendflow.lifecycle.inputs import capture_inputs
    from lendflow.lifecycle.live_stages import check_runnable

    code, stage = _code(code), _stage(stage)
    as_of = business_date(ws, None, asked.business_date)
    check_inputs(stage_of(stage), asked)
    check_runnable(ws, actor, code, stage)
    prepare_prefect(ws.settings.home)  # before the flow's module imports prefect
    if stage_flow(stage) is None:
        raise Refused(f"stage {stage} has no flow in this installation yet")
    files = StagedFiles(asked.uploads)
    try:
        capture_inputs(stage_of(stage), files.given(), use_samples=asked.samples)
    except BaseException:
        files.remove()
        raise
    with _start_lock:  # one start at a time, so each request finds its own run
        before = _newest_run(ws, actor, code, stage)
        running = _start_in_background(code, stage, actor.name, as_of, files, asked.samples)
        run = _await_record(ws, actor, code, stage, before, running)
    view = _stage_run(ws, actor, code, stage, run)
    return served(view, 202, {"Location": _run_url(code, stage, run)})


def _stage_run(ws: Workspace, actor: Actor, code: str, stage: str, run: int) -> StageRun:
    from lendflow.lifecycle.live_stages import run_outputs, stage_history

    found = [r for r in stage_history(ws, actor, code, stage).runs if r.run == run]
    if not found:
        raise NotFound(f"run {run} is not a {stage} run of {code}")
    view = found[0]
    outputs = None
    if view.status == "succeeded":
        newest, produced = run_outputs(ws, actor, code, stage)
        outputs = produced if newest == run else None
    report = f"{_run_url(code, stage, run)}/report" if view.report_format else None
    return StageRun(**view.model_dump(), code=code, outputs=outputs, report=report)


@router.get("/products/{code}/stages/{stage}/runs/{run}", response_model=StageRun)
def show_stage_run(code: ProductCode, stage: Stage, run: RunNumber, ws: Ws, actor: Acting) -> Any:
    """A run's state (running, succeeded, failed), inputs, criteria, outputs, report link."""
    return served(_stage_run(ws, actor, _code(code), _stage(stage), run))


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

    view, data = stored_report(ws, actor, _code(code), _stage(stage), run)
    html = view.report_format == "html"
    media = "text/html; charset=utf-8" if html else "application/octet-stream"
    return Response(data, media_type=media)
