"""Stage runs: started, finished or failed, each in its own transaction.

A stage flow calls `start_run` before its first step and `finish_run` or
`fail_run` after its last, so no transaction is ever held across steps. A run
that fails leaves the product where it was, and the stage can run again; a run
that succeeds waits at the stage's gate (the first charter puts a draft into
the pipeline).

This is the one recorder of runs, for every stage: a pipeline stage runs on the
version in development, a live stage (the catalogue says which) on the live
version, which it leaves live (see live_stages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.criteria import Criterion, all_passed
from lendflow.domain.errors import Conflict, NotFound, Refused
from lendflow.lifecycle import records
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.lifecycle.inputs import CapturedInput
from lendflow.lifecycle.results import (
    GateCriterion,
    RunContext,
    RunInput,
    RunView,
    StageHistory,
    StageOutcome,
    StageRunResult,
)
from lendflow.states.machine import Move, machine
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


@dataclass(frozen=True)
class StartedRun:
    """A run in progress and the version as it stood when the run began."""

    context: RunContext
    version_id: int
    row_version: int


def start_run(
    ws: Workspace,
    actor: Actor,
    code: str,
    stage_id: str,
    inputs: list[CapturedInput],
    as_of: date,
) -> StartedRun:
    """Record a new run of `stage_id`, or refuse it when the stage is out of order (a
    pipeline stage) or no version is live (a live stage)."""
    actor.require(Permission.RUN_STAGES, "run product stages")
    live = stage_of(stage_id).live

    def use_case(uow: UnitOfWork) -> StartedRun:
        if live:
            version = records.live_version(uow, code, for_update=True, stage_id=stage_id)
        else:
            version = _runnable_pipeline_version(uow, code, stage_id)
        return record_start(ws, uow, actor, version, stage_id, inputs, as_of)

    return run_in_transaction(ws.engine, use_case)


def _runnable_pipeline_version(uow: UnitOfWork, code: str, stage_id: str) -> dict[str, Any]:
    """The version in development, locked, if `stage_id` may run on it now."""
    version = records.pipeline_version(uow, code)
    refusal = records.run_refusal(version, stage_id)
    if refusal:
        raise Refused(refusal)
    return version


def record_start(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    version: dict[str, Any],
    stage_id: str,
    inputs: list[CapturedInput],
    as_of: date,
) -> StartedRun:
    """Inside a transaction: record a run of `stage_id` on `version` as started, with the
    inputs it was given, and the event saying so (pipeline and live stages alike)."""
    code = version["product_code"]
    product = records.product_row(uow, code)
    run_id = lifecycle_rows.add_run(
        uow,
        {
            "product_code": code,
            "version_id": version["id"],
            "stage": stage_id,
            "status": "running",
            "run_by": actor.name,
            "business_date": as_of,
            "inputs": records.dumps([i.record() for i in inputs]),
        },
    )
    records.product_event(
        uow,
        version,
        "StageRunStarted",
        actor,
        as_of,
        {
            "run": run_id,
            "stage": stage_id,
            "inputs": [
                {"name": i.name, "sha256": i.sha256, "from_samples": i.from_samples} for i in inputs
            ],
        },
    )
    context = RunContext(
        run_id=run_id,
        code=code,
        product_name=product["name"],
        version=version["version"],
        stage=stage_id,
        run_by=actor.name,
        as_of=as_of,
        locale=ws.settings.locale,
    )
    return StartedRun(context, version["id"], version["row_version"])


def finish_run(ws: Workspace, started: StartedRun, outcome: StageOutcome) -> StageRunResult:
    """Store a successful run; it waits at the stage's gate.

    A pipeline run takes the version's gate slot; it is refused as a conflict
    when the version changed while the stage ran (a gate decided, another run of
    the stage finished first): run it again. A live run leaves the version live;
    it is refused as a conflict if the version stopped being live meanwhile.
    """
    ctx = started.context
    live = stage_of(ctx.stage).live

    def use_case(uow: UnitOfWork) -> StageRunResult:
        version = records.version_by_id(uow, started.version_id)
        if live:
            if version["state"] != "live":
                raise Conflict(
                    f"{records.label(version)} is {version['state']} now, no longer live; run"
                    f" {ctx.stage} again for the live version"
                )
            return record_success(uow, version, ctx, outcome, "live")
        if version["row_version"] != started.row_version:
            raise Conflict(
                f"{records.label(version)} changed while {ctx.stage} ran (it is now"
                f" {version['state']}); run the stage again"
            )
        state = version["state"]
        move = machine("product").fire(state, "start") if state == "draft" else None
        records.save_version(
            uow,
            version,
            {"state": move.dest if move else state, "gate_run_id": ctx.run_id},
        )
        return record_success(uow, version, ctx, outcome, move.dest if move else state, move)

    return run_in_transaction(ws.engine, use_case)


def fail_run(ws: Workspace, started: StartedRun, error: str) -> None:
    """Record why a run failed; the product stays where it was."""
    ctx = started.context

    def use_case(uow: UnitOfWork) -> None:
        lifecycle_rows.finish_run(uow, ctx.run_id, {"status": "failed", "error": error})
        version = records.version_by_id(uow, started.version_id)
        records.product_event(
            uow,
            version,
            "StageRunFailed",
            Actor(ctx.run_by, frozenset()),
            ctx.as_of,
            {"run": ctx.run_id, "stage": ctx.stage, "error": error},
        )

    run_in_transaction(ws.engine, use_case)


def passed_outputs(ws: Workspace, code: str, stage_id: str) -> tuple[int, dict[str, Any]]:
    """The outputs of the run that passed `stage_id`'s gate for the version in development."""

    def use_case(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        version = records.pipeline_version(uow, code)
        run = records.passed_run(uow, version["id"], stage_id)
        if run is None:
            raise Refused(f"{records.label(version)}: {stage_id} has not passed its gate")
        return int(run["id"]), records.loads(run["outputs"])

    return run_in_transaction(ws.engine, use_case)


def run_view(run: dict[str, Any]) -> RunView:
    """A run for people and JSON: inputs by name, file and SHA-256; criteria; the error."""
    criteria = [Criterion.from_dict(c) for c in records.loads(run.get("criteria")) or []]
    return RunView(
        run=run["id"],
        stage=run["stage"],
        status=run["status"],
        run_by=run["run_by"],
        business_date=run["business_date"],
        inputs=tuple(
            RunInput(**{k: i[k] for k in ("name", "file", "sha256", "size", "from_samples")})
            for i in records.loads(run["inputs"])
        ),
        criteria_passed=all_passed(criteria) if run["status"] == "succeeded" else None,
        criteria=tuple(GateCriterion.of(c) for c in criteria),
        error=run["error"],
        report_format=run["report_format"],
        started_at=run["started_at"] or None,
        finished_at=run["finished_at"] or None,
    )


def stage_history(ws: Workspace, actor: Actor, code: str, stage_id: str) -> StageHistory:
    """Every run of a stage for the newest version of `code`, newest last."""
    actor.require(Permission.READ, "read product stages")
    stage_of(stage_id)

    def use_case(uow: UnitOfWork) -> StageHistory:
        version = records.latest_version(uow, code)
        runs = lifecycle_rows.runs_of(uow, version["id"], stage_id)
        here = records.current_stage(version["state"]) == stage_id
        return StageHistory(
            code=code,
            version=version["version"],
            state=version["state"],
            stage=stage_id,
            at_gate=version["gate_run_id"] if here else None,
            runs=tuple(run_view(r) for r in runs),
        )

    return run_in_transaction(ws.engine, use_case)


def stored_report(
    ws: Workspace, actor: Actor, code: str, stage_id: str, run_id: int | None = None
) -> tuple[RunView, bytes]:
    """A run's stored report: the run given, else the newest successful run of the stage."""
    actor.require(Permission.READ, "read product stages")
    stage_of(stage_id)

    def use_case(uow: UnitOfWork) -> tuple[RunView, bytes]:
        version = records.latest_version(uow, code)
        if run_id is None:
            done = [
                r
                for r in lifecycle_rows.runs_of(uow, version["id"], stage_id)
                if r["report_format"]
            ]
            if not done:
                raise NotFound(f"{records.label(version)}: {stage_id} has no report yet")
            chosen = done[-1]["id"]
        else:
            chosen = run_id
        run = records.run_row(uow, chosen)
        if run["product_code"] != code or run["stage"] != stage_id or run["report"] is None:
            raise NotFound(f"run {chosen} is not a {stage_id} run of {code} with a report")
        return run_view(run), bytes(run["report"])

    return run_in_transaction(ws.engine, use_case)


def check_runnable(ws: Workspace, actor: Actor, code: str, stage_id: str) -> None:
    """Refuse at once what `start_run` would refuse: no right, the stage out of order, or
    (a live stage) no live version."""
    actor.require(Permission.RUN_STAGES, "run product stages")
    live = stage_of(stage_id).live

    def use_case(uow: UnitOfWork) -> None:
        if live:
            records.live_version(uow, code, stage_id=stage_id)
        else:
            _runnable_pipeline_version(uow, code, stage_id)

    run_in_transaction(ws.engine, use_case)


def record_success(
    uow: UnitOfWork,
    version: dict[str, Any],
    ctx: RunContext,
    outcome: StageOutcome,
    state: str,
    move: Move | None = None,
) -> StageRunResult:
    """Inside a transaction: store what a successful run produced, and its event; the
    answer a stage command prints (pipeline and live stages alike)."""
    lifecycle_rows.finish_run(
        uow,
        ctx.run_id,
        {
            "status": "succeeded",
            "outputs": records.dumps(outcome.outputs),
            "criteria": records.dumps([c.as_dict() for c in outcome.criteria]),
            "report": outcome.report,
            "report_format": outcome.report_format,
            "charts": records.dumps(outcome.charts),
        },
    )
    passed = all_passed(outcome.criteria)
    records.product_event(
        uow,
        version,
        "StageRunSucceeded",
        Actor(ctx.run_by, frozenset()),
        ctx.as_of,
        {
            "run": ctx.run_id,
            "stage": ctx.stage,
            "criteria_passed": passed,
            "failed_criteria": [c.name for c in outcome.criteria if not c.passed],
        },
        trigger=move.trigger if move else None,
        from_state=move.source if move else None,
        to_state=move.dest if move else None,
    )
    return StageRunResult(
        run=ctx.run_id,
        code=ctx.code,
        version=ctx.version,
        stage=ctx.stage,
        status="succeeded",
        state=state,
        criteria_passed=passed,
        criteria=tuple(GateCriterion.of(c) for c in outcome.criteria),
        report_format=outcome.report_format,
        report_bytes=len(outcome.report),
        charts=len(outcome.charts),
    )
