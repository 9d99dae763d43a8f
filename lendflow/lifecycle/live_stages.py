"""Stages 6 and 7 (operate, improve): runs of a live version, as often as needed.

The pipeline stages run on the version in development and end at a gate that
moves it on; these two run on the version that is live — while the next version
may already be in development — and a go at their gates keeps it live. So their
runs are recorded against the live version, and the run that waits at their gate
is simply the newest successful run of the stage that no decision has taken up
(the pipeline's single gate slot on the version is left to the pipeline).

Runs of every stage are recorded by `stage_runs` (the catalogue says which kind a
stage is); the functions here that share a name with it answer for every stage,
so the CLI (and a later API) has one entry point.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.criteria import Criterion, all_passed
from lendflow.domain.errors import NotFound, Refused
from lendflow.lifecycle import records
from lendflow.lifecycle import runs as stage_runs
from lendflow.lifecycle.catalog import LIVE_STAGES
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.lifecycle.inputs import CapturedInput
from lendflow.lifecycle.records import live_version
from lendflow.lifecycle.results import GateCriterion, LiveGate, RunView, StageHistory
from lendflow.lifecycle.runs import StartedRun
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

LIVE_STAGE_IDS: tuple[str, ...] = tuple(s.id for s in LIVE_STAGES)
SCHEDULER = "scheduler"
SCHEDULED_REVIEWER = Actor(SCHEDULER, frozenset({"product_manager"}))
"""Who the monthly review runs as: a product manager's rights, so a committee member
(never the scheduler) decides its gate."""


def is_live_stage(stage_id: str) -> bool:
    return stage_of(stage_id).live


def stage_actor(ws: Workspace, user: str) -> Actor:
    """The user running a stage; `scheduler` is the scheduled review unless the
    workspace's directory has a user of that name."""
    if user == SCHEDULER and not ws.has_user(SCHEDULER):
        return SCHEDULED_REVIEWER
    return ws.actor(user)


def check_runnable(ws: Workspace, actor: Actor, code: str, stage_id: str) -> None:
    """Refuse at once what starting the run would refuse, for any stage (stage_runs)."""
    stage_of(stage_id)  # an unknown stage is named before the user's rights are checked
    stage_runs.check_runnable(ws, actor, code, stage_id)


def start_run(
    ws: Workspace,
    actor: Actor,
    code: str,
    stage_id: str,
    inputs: list[CapturedInput],
    as_of: date,
) -> StartedRun:
    """Record a new run of a live stage for the live version of `code` (stage_runs)."""
    actor.require(Permission.RUN_STAGES, "run product stages")
    if not is_live_stage(stage_id):
        raise Refused(f"{stage_id} is not a stage of a live product")
    return stage_runs.start_run(ws, actor, code, stage_id, inputs, as_of)


finish_run = stage_runs.finish_run
"""A live run is finished like any other: stage_runs knows a live stage from the catalogue."""


def waiting_run(uow: UnitOfWork, version_id: int, stage_id: str) -> dict[str, Any] | None:
    """The run at a live stage's gate: its newest successful run, unless already decided."""
    done = [
        r for r in lifecycle_rows.runs_of(uow, version_id, stage_id) if r["status"] == "succeeded"
    ]
    if not done:
        return None
    newest = done[-1]
    decided = any(d["run_id"] == newest["id"] for d in lifecycle_rows.decisions_of(uow, version_id))
    return None if decided else newest


def live_gate(uow: UnitOfWork, version: dict[str, Any], stage_id: str) -> LiveGate | None:
    """A live stage's gate as `gate show` shows gates, or None when no run waits there."""
    run = waiting_run(uow, version["id"], stage_id)
    if run is None:
        return None
    criteria = [Criterion.from_dict(c) for c in records.loads(run["criteria"])]
    return LiveGate(
        code=version["product_code"],
        version=version["version"],
        state=version["state"],
        stage=stage_id,
        run=run["id"],
        run_by=run["run_by"],
        business_date=run["business_date"],
        criteria_passed=all_passed(criteria),
        criteria=tuple(GateCriterion.of(c) for c in criteria),
    )


def _shown_version(uow: UnitOfWork, code: str) -> dict[str, Any]:
    """The version whose live-stage runs are shown: the live one, else the newest."""
    try:
        return live_version(uow, code)
    except Refused:
        return records.latest_version(uow, code)


def stage_history(ws: Workspace, actor: Actor, code: str, stage_id: str) -> StageHistory:
    """Every run of a stage: the live version's for operate and improve, else the pipeline's."""
    if not is_live_stage(stage_id):
        return stage_runs.stage_history(ws, actor, code, stage_id)
    actor.require(Permission.READ, "read product stages")

    def use_case(uow: UnitOfWork) -> StageHistory:
        version = _shown_version(uow, code)
        waiting = waiting_run(uow, version["id"], stage_id)
        return StageHistory(
            code=code,
            version=version["version"],
            state=version["state"],
            stage=stage_id,
            at_gate=waiting["id"] if waiting else None,
            runs=tuple(
                stage_runs.run_view(r) for r in lifecycle_rows.runs_of(uow, version["id"], stage_id)
            ),
        )

    return run_in_transaction(ws.engine, use_case)


def stored_report(
    ws: Workspace, actor: Actor, code: str, stage_id: str, run_id: int | None = None
) -> tuple[RunView, bytes]:
    """A run's stored report, for any stage (live stages: the live version's newest)."""
    if not is_live_stage(stage_id):
        return stage_runs.stored_report(ws, actor, code, stage_id, run_id)
    actor.require(Permission.READ, "read product stages")

    def use_case(uow: UnitOfWork) -> tuple[RunView, bytes]:
        if run_id is None:
            version = _shown_version(uow, code)
            done = [
                r
                for r in lifecycle_rows.runs_of(uow, version["id"], stage_id)
                if r["report_format"]
            ]
            if not done:
                raise NotFound(f"{records.label(version)}: {stage_id} has no report yet")
            chosen = int(done[-1]["id"])
        else:
            chosen = run_id
        run = records.run_row(uow, chosen)
        if run["product_code"] != code or run["stage"] != stage_id or run["report"] is None:
            raise NotFound(f"run {chosen} is not a {stage_id} run of {code} with a report")
        return stage_runs.run_view(run), bytes(run["report"])

    return run_in_transaction(ws.engine, use_case)


def run_outputs(ws: Workspace, actor: Actor, code: str, stage_id: str) -> tuple[int, Any]:
    """The outputs of the newest successful run of a stage of `code` (any version)."""
    actor.require(Permission.READ, "read product stages")
    stage_of(stage_id)

    def use_case(uow: UnitOfWork) -> tuple[int, Any]:
        for version in reversed(lifecycle_rows.versions_of(uow, code)):
            done = [
                r
                for r in lifecycle_rows.runs_of(uow, version["id"], stage_id)
                if r["status"] == "succeeded"
            ]
            if done:
                return int(done[-1]["id"]), records.loads(done[-1]["outputs"])
        records.product_row(uow, code)
        raise NotFound(f"product {code} has no successful {stage_id} run")

    return run_in_transaction(ws.engine, use_case)


def live_products(ws: Workspace) -> list[str]:
    """The codes of every product with a live version, in code order."""
    return run_in_transaction(ws.engine, lifecycle_rows.live_product_codes)
