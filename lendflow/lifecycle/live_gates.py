"""The gates of every stage as the CLI (and a later API) sees them: one entry point.

Every gate is decided by `gates.decide`, the one decision path for pipeline and
live stages alike; `gate_view` shows the pipeline's gate and the live stages'
gates (operate, improve) together.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Refused
from lendflow.lifecycle import gates
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.lifecycle.live_stages import LIVE_STAGE_IDS, live_gate
from lendflow.lifecycle.records import live_version
from lendflow.lifecycle.results import GateDecision, GateView, LiveGate
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


def decide(
    ws: Workspace,
    actor: Actor,
    code: str,
    stage_id: str,
    decision: str,
    *,
    to: str | None = None,
    note: str = "",
    as_of: date,
) -> GateDecision:
    """Decide any stage's gate (see gates.decide); a launch that goes retires the older live
    version, a recycled improvement opens the next one."""
    stage_of(stage_id)  # an unknown stage is named before the user's rights are checked
    return gates.decide(ws, actor, code, stage_id, decision, to=to, note=note, as_of=as_of)


def gate_view(ws: Workspace, actor: Actor, code: str) -> GateView:
    """The pipeline's gate (see gates.gate_view) and the live stages' gates (`live_gates`).

    When no pipeline run waits, the first live gate with a run waiting is the one shown.
    """
    view = gates.gate_view(ws, actor, code)

    def use_case(uow: UnitOfWork) -> list[LiveGate]:
        try:
            version = live_version(uow, code)
        except Refused:
            return []
        found = (live_gate(uow, version, stage_id) for stage_id in LIVE_STAGE_IDS)
        return [g for g in found if g is not None]

    waiting = run_in_transaction(ws.engine, use_case)
    shown: dict[str, Any] = {"live_gates": tuple(waiting)}
    if view.run is None and waiting:
        shown.update(waiting[0].model_dump(exclude={"code"}))
        shown["criteria"] = waiting[0].criteria
    return view.model_copy(update=shown)
