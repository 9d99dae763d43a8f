"""Gate decisions for every stage: the pipeline's (see gates) and the live stages'.

At the gates of operate and improve the product committee keeps the version
live (`go`; a failed criterion needs a note saying what is done about it) or,
at improve, recycles the improvement plan to design: that opens the next
version, a copy of the live spec with the plan's changes, which enters design
while the live version keeps taking applications. The new version stands on the
charter and research the live one passed: those gate decisions are carried over
to it, naming the decisions they come from.

When a launch goes, the version becomes live and takes new applications; any
older live version is then retired through the product machine, so it takes no
new applications and its loans run off on their own terms.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.criteria import Criterion, all_passed
from lendflow.domain.errors import BadInput, Refused
from lendflow.lifecycle import gates, records
from lendflow.lifecycle.live_stages import LIVE_STAGE_IDS, is_live_stage, live_gate, live_version
from lendflow.lifecycle.live_stages import waiting_run as live_waiting_run
from lendflow.states.machine import machine
from lendflow.store.tables import version_origins
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

CARRIED_STAGES = ("charter", "research")
"""What a version opened by an improvement keeps from the live one: it re-enters at design."""
LIVE_DECISIONS = {"operate": ("go",), "improve": ("go", "recycle")}


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
) -> dict[str, Any]:
    """Decide any stage's gate; a launch that goes retires the older live version."""
    if is_live_stage(stage_id):
        return _decide_live(ws, actor, code, stage_id, decision, to, note.strip(), as_of)
    if stage_id == "launch" and decision == "go":
        # the launch and the retirement it implies are one transaction: never two live
        return gates.decide(
            ws, actor, code, stage_id, decision, to=to, note=note, as_of=as_of,
            then=lambda uow: {"retired_versions": retire_in(uow, actor, code, as_of)},
        )  # fmt: skip
    return gates.decide(ws, actor, code, stage_id, decision, to=to, note=note, as_of=as_of)


def retire_in(uow: UnitOfWork, actor: Actor, code: str, as_of: date) -> list[int]:
    """Inside a transaction: retire every live version older than the newest live one."""
    newest = live_version(uow, code, for_update=True)
    retired = []
    for version in records.versions_of(uow, code):
        if version["state"] != "live" or version["id"] == newest["id"]:
            continue
        move = machine("product").fire("live", "retire", label=records.label(version))
        records.save_version(uow, version, {"state": move.dest})
        records.product_event(
            uow,
            version,
            "ProductVersionRetired",
            actor,
            as_of,
            {"superseded_by": newest["version"]},
            trigger=move.trigger,
            from_state=move.source,
            to_state=move.dest,
        )
        retired.append(int(version["version"]))
    return retired


def _check_live_request(stage_id: str, decision: str, to: str | None) -> None:
    allowed = LIVE_DECISIONS[stage_id]
    if decision not in allowed:
        raise Refused(
            f"at the {stage_id} gate a live version can only {' or '.join(allowed)}"
            " (it stays live until its next version launches)"
        )
    if decision == "recycle" and to != "design":
        raise BadInput(
            "an improvement is recycled with --to design: the next version re-enters at design"
        )
    if decision != "recycle" and to:
        raise BadInput("--to names where a recycle goes; it is only for recycle")


def _decide_live(
    ws: Workspace,
    actor: Actor,
    code: str,
    stage_id: str,
    decision: str,
    to: str | None,
    note: str,
    as_of: date,
) -> dict[str, Any]:
    actor.require(Permission.DECIDE_GATES, "decide product gates")
    _check_live_request(stage_id, decision, to)

    def use_case(uow: UnitOfWork) -> dict[str, Any]:
        version = live_version(uow, code, for_update=True, stage_id=stage_id)
        run = live_waiting_run(uow, version["id"], stage_id)
        if run is None:
            raise Refused(
                f"{records.label(version)}: no {stage_id} run waits at its gate; run the stage"
                " first"
            )
        if run["run_by"] == actor.name:
            raise Refused(
                f"user {actor.name} ran {stage_id} (run {run['id']}); another member of the"
                " product committee must decide its gate (four eyes)"
            )
        criteria = [Criterion.from_dict(c) for c in records.loads(run["criteria"])]
        outputs = records.loads(run["outputs"])
        opened: dict[str, Any] | None = None
        if decision == "go":
            move = machine("product").fire(
                "live",
                "go",
                {"criteria_passed": all_passed(criteria), "note": note},
                label=records.label(version),
            )
        else:
            changes = len(outputs["plan"]["changes"])
            move = machine("product").fire(
                "live", "open_next_version", {"spec_changes": changes}, label=records.label(version)
            )
        records.save_version(uow, version, {"state": move.dest})
        decision_id = records.insert_decision(
            uow,
            {
                "product_code": code,
                "version_id": version["id"],
                "stage": stage_id,
                "run_id": run["id"],
                "decision": decision,
                "to_stage": "design" if decision == "recycle" else None,
                "from_state": move.source,
                "to_state": move.dest,
                "note": note,
                "decided_by": actor.name,
                "business_date": as_of,
                "criteria": records.dumps([c.as_dict() for c in criteria]),
            },
        )
        if decision == "recycle":
            opened = _open_next_version(uow, actor, version, run, outputs, decision_id, as_of)
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
                "run": run["id"],
                "criteria_passed": all_passed(criteria),
                **({"opened_version": opened["version"]} if opened else {}),
            },
            trigger=move.trigger,
            from_state=move.source,
            to_state=move.dest,
        )
        return {
            "decision_id": decision_id,
            "code": code,
            "version": version["version"],
            "stage": stage_id,
            "decision": decision,
            "to_stage": "design" if decision == "recycle" else None,
            "from_state": move.source,
            "state": move.dest,
            "run": run["id"],
            "decided_by": actor.name,
            "business_date": as_of.isoformat(),
            "note": note,
            "criteria_passed": all_passed(criteria),
            "criteria": [c.as_dict() for c in criteria],
            "opened_version": opened,
        }

    return run_in_transaction(ws.engine, use_case)


def _open_next_version(
    uow: UnitOfWork,
    actor: Actor,
    live: dict[str, Any],
    run: dict[str, Any],
    outputs: dict[str, Any],
    decision_id: int,
    as_of: date,
) -> dict[str, Any]:
    """The next version of the product, in design, with the improvement's proposed spec."""
    code = live["product_code"]
    latest = records.latest_version(uow, code, for_update=True)
    if latest["id"] != live["id"] and latest["state"] not in ("killed", "retired"):
        raise Refused(
            f"{records.label(latest)} is already in development ({latest['state']}); decide it"
            " (or kill it) before opening another version"
        )
    carried = []
    for stage_id in CARRIED_STAGES:
        passed = records.passed_run(uow, live["id"], stage_id)
        if passed is None:
            raise Refused(
                f"{records.label(live)} never passed its {stage_id} gate in lendflow (an imported"
                " version); start a new product to take it through the stages"
            )
        carried.append((stage_id, passed))
    proposed = outputs["plan"]["proposed_spec"]
    number = int(latest["version"]) + 1
    version_id = int(
        uow.connection.execute(
            insert(records.VERSIONS)
            .values(product_code=code, version=number, state="draft", created_by=actor.name)
            .returning(records.VERSIONS.c.id)
        ).scalar_one()
    )
    new = records.version_by_id(uow, version_id)
    move = machine("product").fire(
        "draft",
        "enter_design",
        {"spec_changes": len(outputs["plan"]["changes"])},
        label=records.label(new),
    )
    records.save_version(uow, new, {"state": move.dest})
    for stage_id, passed in carried:
        records.insert_decision(
            uow,
            {
                "product_code": code,
                "version_id": version_id,
                "stage": stage_id,
                "run_id": passed["id"],
                "decision": "go",
                "to_stage": None,
                "from_state": move.source,
                "to_state": move.dest,
                "note": f"carried over from v{live['version']} (improvement decision"
                f" {decision_id}): its {stage_id} passed the gate with run {passed['id']}",
                "decided_by": actor.name,
                "business_date": as_of,
                "criteria": passed["criteria"],
            },
        )
    uow.connection.execute(
        insert(version_origins).values(
            version_id=version_id,
            from_version_id=live["id"],
            run_id=run["id"],
            decision_id=decision_id,
            proposed_spec=proposed,
            proposed_sha256=hashlib.sha256(proposed.encode("utf-8")).hexdigest(),
        )
    )
    records.product_event(
        uow,
        new,
        "ProductVersionOpened",
        actor,
        as_of,
        {
            "from_version": live["version"],
            "improvement_run": run["id"],
            "decision_id": decision_id,
            "changes": [c["path"] for c in outputs["plan"]["changes"]],
        },
        trigger=move.trigger,
        from_state=move.source,
        to_state=move.dest,
    )
    return {"version": number, "state": move.dest, "from_version": live["version"]}


def gate_view(ws: Workspace, actor: Actor, code: str) -> dict[str, Any]:
    """The pipeline's gate (see gates.gate_view) and the live stages' gates (`live_gates`).

    When no pipeline run waits, the first live gate with a run waiting is the one shown.
    """
    view = gates.gate_view(ws, actor, code)

    def use_case(uow: UnitOfWork) -> list[dict[str, Any]]:
        try:
            version = live_version(uow, code)
        except Refused:
            return []
        found = (live_gate(uow, version, stage_id) for stage_id in LIVE_STAGE_IDS)
        return [g for g in found if g is not None]

    waiting = run_in_transaction(ws.engine, use_case)
    view["live_gates"] = waiting
    if view["run"] is None and waiting:
        view.update({k: v for k, v in waiting[0].items() if k != "code"})
    return view
