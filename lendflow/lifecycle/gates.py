"""Gate decisions: the product committee's go, kill, hold, recycle — and resume after a hold.

A gate is decided on the successful run waiting at it, by a member of the
product committee who did not run that stage (four eyes); a product manager
may not decide at all. The product machine says what each decision may do:
go needs every automatic criterion passed, hold needs a note, recycle only goes
back, kill is final. When a design goes, its spec becomes the version's spec.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.loading import parse_yaml
from lendflow.config.product_spec import parse_product
from lendflow.domain.criteria import Criterion, all_passed
from lendflow.domain.errors import BadInput, Refused
from lendflow.lifecycle import records
from lendflow.lifecycle.catalog import earlier, held_stage
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.states.machine import machine
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

DECISIONS = ("go", "kill", "hold", "recycle", "resume")


def _check_request(decision: str, stage_id: str, to: str | None) -> None:
    stage_of(stage_id)
    if decision not in DECISIONS:
        raise BadInput(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    if decision == "recycle":
        if not to:
            raise BadInput("recycle needs --to STAGE, the earlier stage to go back to")
        stage_of(to)
    elif to:
        raise BadInput("--to names where a recycle goes; it is only for recycle")


def _trigger(version: dict[str, Any], stage_id: str, decision: str, to: str | None) -> str:
    """The machine trigger for the decision, after the refusals people need spelt out."""
    who = records.label(version)
    state = version["state"]
    if state == "killed":
        raise Refused(f"{who} was killed; a kill is final")
    held = held_stage(state)
    at = held or state
    if at == "draft":
        raise Refused(f"{who} is a draft; its charter must run before any gate")
    if at != stage_id:
        raise Refused(f"{who} is at the {at} gate, not {stage_id}")
    if held and decision not in ("resume", "kill"):
        raise Refused(f"{who} is on hold at the {held} gate; resume or kill it")
    if not held and decision == "resume":
        raise Refused(f"{who} is not on hold")
    if decision != "recycle":
        return decision
    assert to is not None
    back = earlier(stage_id)
    if to not in back:
        where = f"back to {', '.join(back)}" if back else "nowhere: it is the first stage"
        raise Refused(f"recycle only goes back: {stage_id} can be recycled {where}")
    return f"recycle_to_{to}"


def _spec_columns(run: dict[str, Any]) -> dict[str, Any]:
    """The spec a design run checked, as the version's spec columns."""
    spec_input = next(i for i in records.loads(run["inputs"]) if i["name"] == "spec")
    text = spec_input.get("content")
    if text is None:  # pragma: no cover - a spec is never a megabyte
        raise Refused(f"run {run['id']}: the spec was too large to store; run design again")
    spec = parse_product(parse_yaml(text), spec_input["file"])
    return {
        "spec_yaml": text,
        "spec_sha256": spec_input["sha256"],
        "min_amount": spec.amount.min,
        "max_amount": spec.amount.max,
        "annual_rate": str(spec.rate.annual),
    }


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
    then: Callable[[UnitOfWork], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Record a gate decision and move the product version as the machine allows;
    `then` runs in the same transaction (e.g. a launch retiring the older version)."""
    actor.require(Permission.DECIDE_GATES, "decide product gates")
    _check_request(decision, stage_id, to)
    note = note.strip()

    def use_case(uow: UnitOfWork) -> dict[str, Any]:
        version = records.pipeline_version(uow, code)
        trigger = _trigger(version, stage_id, decision, to)
        run_id = version["gate_run_id"]
        if run_id is None:
            raise Refused(
                f"{records.label(version)}: {stage_id} has no successful run waiting at its"
                " gate; run the stage first"
            )
        run = records.run_row(uow, run_id)
        if run["run_by"] == actor.name:
            raise Refused(
                f"user {actor.name} ran {stage_id} (run {run_id}); another member of the"
                " product committee must decide its gate (four eyes)"
            )
        criteria = [Criterion.from_dict(c) for c in records.loads(run["criteria"])]
        move = machine("product").fire(
            version["state"],
            trigger,
            {"criteria_passed": all_passed(criteria), "note": note},
            label=records.label(version),
        )
        values: dict[str, Any] = {"state": move.dest}
        if decision in ("go", "recycle"):
            values["gate_run_id"] = None
        if decision == "go" and stage_id == "design":
            values.update(_spec_columns(run))
        records.save_version(uow, version, values)
        to_stage = {"go": move.dest, "recycle": to, "resume": stage_id}.get(decision)
        decision_id = records.insert_decision(
            uow,
            {
                "product_code": code,
                "version_id": version["id"],
                "stage": stage_id,
                "run_id": run_id,
                "decision": decision,
                "to_stage": to_stage,
                "from_state": move.source,
                "to_state": move.dest,
                "note": note,
                "decided_by": actor.name,
                "business_date": as_of,
                "criteria": records.dumps([c.as_dict() for c in criteria]),
            },
        )
        records.product_event(
            uow,
            version,
            "GateDecided",
            actor,
            as_of,
            {
                "decision_id": decision_id,
                "stage": stage_id,
                "decision": decision,
                "run": run_id,
                "criteria_passed": all_passed(criteria),
            },
            trigger=move.trigger,
            from_state=move.source,
            to_state=move.dest,
        )
        extra = then(uow) if then is not None else {}
        return {
            **extra,
            "decision_id": decision_id,
            "code": code,
            "version": version["version"],
            "stage": stage_id,
            "decision": decision,
            "to_stage": to_stage,
            "from_state": move.source,
            "state": move.dest,
            "run": run_id,
            "decided_by": actor.name,
            "business_date": as_of.isoformat(),
            "note": note,
            "criteria_passed": all_passed(criteria),
            "criteria": [c.as_dict() for c in criteria],
        }

    return run_in_transaction(ws.engine, use_case)


def gate_view(ws: Workspace, actor: Actor, code: str) -> dict[str, Any]:
    """The gate the version in development waits at: its run and criteria, or why none."""
    actor.require(Permission.READ, "read product gates")

    def use_case(uow: UnitOfWork) -> dict[str, Any]:
        version = records.latest_version(uow, code)
        stage = records.current_stage(version["state"])
        view: dict[str, Any] = {
            "code": code,
            "version": version["version"],
            "state": version["state"],
            "stage": stage,
            "run": version["gate_run_id"] if stage else None,
            "criteria_passed": None,
            "criteria": [],
        }
        if view["run"] is not None:
            run = records.run_row(uow, view["run"])
            criteria = [Criterion.from_dict(c) for c in records.loads(run["criteria"])]
            view.update(
                run_by=run["run_by"],
                business_date=run["business_date"].isoformat(),
                criteria_passed=all_passed(criteria),
                criteria=[c.as_dict() for c in criteria],
            )
        return view

    return run_in_transaction(ws.engine, use_case)
