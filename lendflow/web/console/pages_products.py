"""Products in the console: the board of every product's versions across the stages, a
product's pipeline, a stage with its runs and the form to start one, a run followed
while it goes, and a gate with its criteria, earlier decisions and the decision form.

A stage run starts the way the API starts one (`web.stage_runs.start_run`: the stage's
Prefect flow in a thread of its own); the page answers once the run is recorded and
sends the browser to the run's page, which reloads itself while the run goes. Four
eyes and every other rule stay in the use cases: a refusal is shown on the page.
"""

from __future__ import annotations

import secrets
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from lendflow.access.permissions import Actor, Permission
from lendflow.domain import bounds
from lendflow.domain.errors import LendflowError
from lendflow.lifecycle.catalog import LIVE_STAGES, STAGE_IDS, STAGES, Stage, held_stage
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.web.console.common import Notices, back, workspace
from lendflow.web.console.render import language, render
from lendflow.web.console.session import Staff
from lendflow.web.stage_runs import checked_code, checked_stage, find_run, gate_at, start_run
from lendflow.workspace.context import Workspace

router = APIRouter(prefix="/console/products", include_in_schema=False)
BOARD_COLUMNS = ("draft", *STAGE_IDS, "live", "held", "killed", "retired")
Code = Annotated[str, Path(min_length=1, max_length=bounds.MAX_CODE_LENGTH)]
StageId = Annotated[str, Path(min_length=1, max_length=bounds.MAX_CODE_LENGTH)]
RunNumber = Annotated[int, Path(ge=1, le=bounds.MAX_ID)]
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
"""A stored report is a whole page of its own with its styles inline: it may style
itself, and nothing else (no script, no form, no request anywhere)."""


def stage_names(request: Request) -> dict[str, str]:
    """Each stage's name in the page's language."""
    english = language(request) == "en"
    return {s.id: s.name_en if english else s.name_zh for s in (*STAGES, *LIVE_STAGES)}


def board_column(state: str) -> str:
    """Where a version in `state` stands on the board (a held version under "held")."""
    return "held" if held_stage(state) else state


def _stage_url(code: str, stage: str) -> str:
    return f"/console/products/{code}/stages/{stage}"


def _run_url(code: str, stage: str, run: int) -> str:
    return f"{_stage_url(code, stage)}/runs/{run}"


def _gate_url(code: str, stage: str) -> str:
    return f"/console/products/{code}/gates/{stage}"


@router.get("")
def board(request: Request, actor: Staff) -> Response:
    """Every product, each version in the column of where it stands."""
    from lendflow.lifecycle.products import list_products, product_versions_view

    ws = workspace(request)
    rows = []
    for product in list_products(ws, actor):
        cells: dict[str, list[Any]] = {column: [] for column in BOARD_COLUMNS}
        for version in product_versions_view(ws, actor, product.code).versions:
            cells[board_column(version.state.value)].append(version)
        rows.append({"product": product, "cells": cells})
    context = {"rows": rows, "columns": BOARD_COLUMNS, "stage_names": stage_names(request)}
    return render(request, "console/products.html.j2", context, actor=actor)


@router.get("/{code}")
def product_page(
    request: Request,
    actor: Staff,
    code: Code,
    version: Annotated[int | None, Query(ge=1, le=bounds.MAX_ID)] = None,
) -> Response:
    """A version's way through the stages (the newest unless `version` says), its gate
    decisions, every version, and the live stages of a live product."""
    from lendflow.lifecycle.products import product_pipeline, product_versions_view

    ws = workspace(request)
    code = checked_code(code)
    pipeline = product_pipeline(ws, actor, code, version)
    versions = product_versions_view(ws, actor, code)
    context = {
        "pipeline": pipeline,
        "versions": versions.versions,
        "live": any(v.state.value == "live" for v in versions.versions),
        "live_stages": LIVE_STAGES,
        "stage_names": stage_names(request),
    }
    return render(request, "console/product.html.j2", context, actor=actor)


@router.get("/{code}/stages/{stage}")
def stage_page(
    request: Request, actor: Staff, code: Code, stage: StageId, flash: Notices
) -> Response:
    """The stage's runs, newest first, and for a product manager the form to start one."""
    from lendflow.lifecycle.live_stages import stage_history

    ws = workspace(request)
    code, stage = checked_code(code), checked_stage(stage)
    history = stage_history(ws, actor, code, stage)
    context = {
        "history": history,
        "runs": list(reversed(history.runs)),
        "stage": stage_of(stage),
        "stage_names": stage_names(request),
        "may_run": actor.can(Permission.RUN_STAGES),
        "notice": flash.done,
        "error": flash.refused,
    }
    return render(request, "console/stage.html.j2", context, actor=actor)


def _uploaded(stage: Stage, form: Any) -> list[tuple[str, UploadFile]]:
    """The stage's inputs a file was chosen for in the form, by input name."""
    found = [(item.name, form.get(item.name)) for item in stage.inputs]
    return [(name, f) for name, f in found if isinstance(f, UploadFile) and f.filename]


async def _save(ws: Workspace, stage: Stage, uploads: list[tuple[str, UploadFile]]) -> FilePath:
    """The uploaded files in a folder of their own under the workspace, each under its
    sample's name (never a name the browser gave); the flow reads them from there and
    the folder goes once it has."""
    folder = ws.settings.home / "uploads" / secrets.token_hex(8)
    folder.mkdir(parents=True, mode=0o700)
    for name, upload in uploads:
        (folder / stage.input(name).sample).write_bytes(await upload.read())
    return folder


@router.post("/{code}/stages/{stage}/runs")
async def start_stage_run(request: Request, actor: Staff, code: Code, stage: StageId) -> Response:
    """Start a run with the uploaded input files and, if asked, the samples for the rest;
    then to the run's page (or back to the stage, with why it did not start)."""
    ws = workspace(request)
    code, stage = checked_code(code), checked_stage(stage)
    form = await request.form()
    samples = form.get("samples") == "1"
    item = stage_of(stage)
    uploads = _uploaded(item, form)
    missing = [i.name for i in item.inputs if i.name not in dict(uploads)]
    if missing and not samples:
        refused = f"upload {', '.join(missing)}, or take the samples for what is not uploaded"
        return back(_stage_url(code, stage), refused=refused)
    folder = await _save(ws, item, uploads) if uploads else None
    given = {name: folder / item.input(name).sample for name, _ in uploads} if folder else {}
    try:
        run = await run_in_threadpool(
            start_run, ws, actor, code, stage, ws.today(), given, samples=samples, uploads=folder
        )
    except LendflowError as refused:  # start_run has removed the uploads
        return back(_stage_url(code, stage), refused=refused.message)
    return back(_run_url(code, stage, run))


@router.get("/{code}/stages/{stage}/runs/{run}")
def run_page(
    request: Request, actor: Staff, code: Code, stage: StageId, run: RunNumber
) -> Response:
    """A run's state, inputs, criteria or error, and its report once stored; the state
    block reloads itself every two seconds while the run goes."""
    ws = workspace(request)
    code, stage = checked_code(code), checked_stage(stage)
    view = find_run(ws, actor, code, stage, run)
    context = {
        "code": code,
        "stage": stage,
        "run": view,
        "url": _run_url(code, stage, run),
        "stage_names": stage_names(request),
        "hx_block": "state",
    }
    return render(request, "console/run.html.j2", context, actor=actor)


@router.get("/{code}/stages/{stage}/runs/{run}/report")
def run_report(
    request: Request, actor: Staff, code: Code, stage: StageId, run: RunNumber
) -> Response:
    """The run's report as it was stored."""
    from lendflow.lifecycle.live_stages import stored_report

    ws = workspace(request)
    view, data = stored_report(ws, actor, checked_code(code), checked_stage(stage), run)
    if view.report_format == "html":
        headers = {"Content-Security-Policy": REPORT_POLICY}
        return Response(data, media_type="text/html; charset=utf-8", headers=headers)
    disposition = f'attachment; filename="{stage}-run-{run}.{view.report_format}"'
    return Response(
        data, media_type="application/octet-stream", headers={"Content-Disposition": disposition}
    )


def _decisions_at(ws: Workspace, actor: Actor, code: str, stage: str) -> list[dict[str, Any]]:
    """Every decision taken at this stage's gate, on every version, oldest first."""
    from lendflow.lifecycle.products import product_pipeline, product_versions_view

    found = []
    for version in product_versions_view(ws, actor, code).versions:
        for decision in product_pipeline(ws, actor, code, version.version).decisions:
            if decision.stage == stage:
                found.append({"version": version.version, "decision": decision})
    return sorted(found, key=lambda d: d["decision"].id)


def _choices(stage: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The decisions the form offers at this gate, and where a recycle may go."""
    from lendflow.lifecycle.catalog import earlier
    from lendflow.lifecycle.gates import DECISIONS, LIVE_DECISIONS

    if stage_of(stage).live:
        allowed = tuple(LIVE_DECISIONS[stage])
        return allowed, ("design",) if "recycle" in allowed else ()
    return tuple(DECISIONS), earlier(stage)


@router.get("/{code}/gates/{stage}")
def gate_page(
    request: Request, actor: Staff, code: Code, stage: StageId, flash: Notices
) -> Response:
    """The run waiting at the gate with each criterion passed or failed and its figure,
    the decisions taken here before, and the decision form for the committee."""
    from lendflow.lifecycle.live_gates import gate_view

    ws = workspace(request)
    code, stage = checked_code(code), checked_stage(stage)
    view = gate_view(ws, actor, code)
    decisions, targets = _choices(stage)
    context = {
        "code": code,
        "stage": stage,
        "view": view,
        "gate": gate_at(view, stage),
        "history": _decisions_at(ws, actor, code, stage),
        "may_decide": actor.can(Permission.DECIDE_GATES),
        "decisions": decisions,
        "targets": targets,
        "stage_names": stage_names(request),
        "notice": flash.done,
        "error": flash.refused,
    }
    return render(request, "console/gate.html.j2", context, actor=actor)


@router.post("/{code}/gates/{stage}/decisions")
def decide(
    request: Request,
    actor: Staff,
    code: Code,
    stage: StageId,
    decision: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=bounds.MAX_NOTE_LENGTH)] = "",
    to: Annotated[str, Form(max_length=bounds.MAX_CODE_LENGTH)] = "",
) -> Response:
    """Decide the gate (`lifecycle.live_gates.decide`): the use case holds who may, four
    eyes and what the product machine allows; a refusal comes back to the gate page."""
    from lendflow.lifecycle.live_gates import decide as decide_gate

    ws = workspace(request)
    code, stage = checked_code(code), checked_stage(stage)
    try:
        text = bounds.check_note(note, field="note") if note.strip() else ""
        target = bounds.check_code(to, field="to") if to.strip() else None
        result = decide_gate(
            ws, actor, code, stage, decision, to=target, note=text, as_of=ws.today()
        )
    except LendflowError as refused:
        return back(_gate_url(code, stage), refused=refused.message)
    said = f"{result.decision}: {code} v{result.version} is {result.state.value}"
    return back(_gate_url(code, stage), done=said)
