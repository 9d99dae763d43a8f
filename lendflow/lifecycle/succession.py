"""How one version of a product follows another: what two gate decisions set off.

When the committee recycles an improvement to design, the next version opens: a
copy of the live spec with the plan's changes, which enters design while the
live version keeps taking applications. The new version stands on the charter
and research the live one passed: those gate decisions are carried over to it,
naming the decisions they come from.

When a launch goes, the version becomes live and takes new applications; any
older live version is then retired through the product machine, so it takes no
new applications and its loans run off on their own terms.

Both run inside the transaction of the gate decision (see gates.decide).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Refused
from lendflow.lifecycle import records
from lendflow.states.machine import Move, machine
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import UnitOfWork

CARRIED_STAGES = ("charter", "research")
"""What a version opened by an improvement keeps from the live one: it re-enters at design."""


def retire_superseded(uow: UnitOfWork, actor: Actor, code: str, as_of: date) -> list[int]:
    """Retire every live version older than the newest live one; their numbers."""
    newest = records.live_version(uow, code, for_update=True)
    retired = []
    for version in lifecycle_rows.versions_of(uow, code):
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


def _carried(uow: UnitOfWork, live: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The runs that passed the live version's carried gates; refused if one never passed."""
    carried = []
    for stage_id in CARRIED_STAGES:
        passed = records.passed_run(uow, live["id"], stage_id)
        if passed is None:
            raise Refused(
                f"{records.label(live)} never passed its {stage_id} gate in lendflow (an imported"
                " version); start a new product to take it through the stages"
            )
        carried.append((stage_id, passed))
    return carried


def open_next_version(
    uow: UnitOfWork,
    actor: Actor,
    live: dict[str, Any],
    run: dict[str, Any],
    decision_id: int,
    as_of: date,
) -> dict[str, Any]:
    """The next version of the product, in design, with the improvement's proposed spec."""
    code = live["product_code"]
    plan = records.loads(run["outputs"])["plan"]
    latest = records.latest_version(uow, code, for_update=True)
    if latest["id"] != live["id"] and latest["state"] not in ("killed", "retired"):
        raise Refused(
            f"{records.label(latest)} is already in development ({latest['state']}); decide it"
            " (or kill it) before opening another version"
        )
    carried = _carried(uow, live)
    number = int(latest["version"]) + 1
    new, move = _new_in_design(uow, actor, code, number, len(plan["changes"]))
    version_id = new["id"]
    for stage_id, passed in carried:
        lifecycle_rows.add_decision(
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
    _record_origin(uow, version_id, live, run, decision_id, plan["proposed_spec"])
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
            "changes": [c["path"] for c in plan["changes"]],
        },
        trigger=move.trigger,
        from_state=move.source,
        to_state=move.dest,
    )
    return {"version": number, "state": move.dest, "from_version": live["version"]}


def _new_in_design(
    uow: UnitOfWork, actor: Actor, code: str, number: int, spec_changes: int
) -> tuple[dict[str, Any], Move]:
    """Version `number` of `code`, created as a draft and moved into design."""
    version_id = lifecycle_rows.add_draft_version(uow, code, number, actor.name)
    new = records.version_by_id(uow, version_id)
    move = machine("product").fire(
        "draft", "enter_design", {"spec_changes": spec_changes}, label=records.label(new)
    )
    records.save_version(uow, new, {"state": move.dest})
    return new, move


def _record_origin(
    uow: UnitOfWork,
    version_id: int,
    live: dict[str, Any],
    run: dict[str, Any],
    decision_id: int,
    proposed: str,
) -> None:
    """Keep where the new version came from, with the spec proposed for it and its SHA-256."""
    lifecycle_rows.add_version_origin(
        uow,
        {
            "version_id": version_id,
            "from_version_id": live["id"],
            "run_id": run["id"],
            "decision_id": decision_id,
            "proposed_spec": proposed,
            "proposed_sha256": hashlib.sha256(proposed.encode("utf-8")).hexdigest(),
        },
    )
