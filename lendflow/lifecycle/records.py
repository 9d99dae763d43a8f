"""The lifecycle's rules over its rows: which version a stage or gate is for, when a stage
may run, what a missing row means, and the product's events.

The rows themselves are read and written by the store (`store.lifecycle`). Every
write to a product version carries the row version it read (optimistic locking):
a version changed by someone else in between is a clear conflict, never a lost
update. Every change appends an event for the product.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Conflict, NotFound, Refused
from lendflow.lifecycle.catalog import STAGE_IDS, held_stage
from lendflow.store import events
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import UnitOfWork

DONE_STATES = frozenset({"live", "retired"})


def label(version: dict[str, Any]) -> str:
    """How a refusal names a version: `product anxin v1`."""
    return f"product {version['product_code']} v{version['version']}"


def product_row(uow: UnitOfWork, code: str) -> dict[str, Any]:
    found = lifecycle_rows.product(uow, code)
    if found is None:
        raise NotFound(f"product {code!r} does not exist")
    return found


def latest_version(uow: UnitOfWork, code: str, *, for_update: bool = False) -> dict[str, Any]:
    """The newest version of `code`; the product must exist and have one."""
    row = lifecycle_rows.latest_version(uow, code, for_update=for_update)
    if row is None:
        product_row(uow, code)
        raise NotFound(f"product {code!r} has no versions")
    return row


def pipeline_version(uow: UnitOfWork, code: str) -> dict[str, Any]:
    """The version of `code` in development: the newest, unless it is already live or retired."""
    version = latest_version(uow, code, for_update=True)
    if version["state"] in DONE_STATES:
        raise Refused(
            f"product {code} has no version in development (v{version['version']} is"
            f" {version['state']})"
        )
    return version


def live_version(
    uow: UnitOfWork, code: str, *, for_update: bool = False, stage_id: str | None = None
) -> dict[str, Any]:
    """The version of `code` that takes applications (the newest live one)."""
    row = lifecycle_rows.newest_live_version(uow, code, for_update=for_update)
    if row is None:
        latest = latest_version(uow, code)
        what = f"{stage_id} runs" if stage_id else "stages 6 and 7 run"
        raise Refused(
            f"product {code} has no live version ({label(latest)} is"
            f" {latest['state']}); {what} while a version is live"
        )
    return row


def version_by_id(uow: UnitOfWork, version_id: int) -> dict[str, Any]:
    """A version by id, locked: it is read to be checked and written."""
    row = lifecycle_rows.version_for_update(uow, version_id)
    if row is None:
        raise NotFound(f"product version {version_id} does not exist")
    return row


def current_stage(state: str) -> str | None:
    """The stage whose gate a version in `state` is at (held or not); None outside the stages."""
    stage = held_stage(state) or state
    return stage if stage in STAGE_IDS else None


def run_refusal(version: dict[str, Any], stage: str) -> str | None:
    """Why `stage` may not run for this version now, or None when it may.

    A stage runs while the version is in it (again, if it wants: the newest
    successful run is what the gate decides on); the charter also runs for a
    draft. Anything else is out of order.
    """
    state = version["state"]
    who = label(version)
    if state == stage or (state == "draft" and stage == "charter"):
        return None
    if state == "killed":
        return f"{who} was killed; a kill is final"
    if state in DONE_STATES:
        return f"{who} is {state}; its stages are over"
    held = held_stage(state)
    if held is not None:
        return f"{who} is on hold at the {held} gate; the committee must resume it first"
    at = "charter" if state == "draft" else state
    order = STAGE_IDS.index(stage)
    if order < STAGE_IDS.index(at):
        return (
            f"{who} is at the {at} stage; {stage} has passed its gate (recycle to {stage} to"
            " run it again)"
        )
    return f"{who} is at the {at} stage; {stage} runs after {STAGE_IDS[order - 1]} passes its gate"


def save_version(uow: UnitOfWork, version: dict[str, Any], values: dict[str, Any]) -> None:
    """Write `values` if nobody changed the version since it was read."""
    if not lifecycle_rows.save_version(uow, version, values):
        raise Conflict(f"{label(version)} was changed by someone else; try again")


def run_row(uow: UnitOfWork, run_id: int) -> dict[str, Any]:
    row = lifecycle_rows.run(uow, run_id)
    if row is None:
        raise NotFound(f"stage run {run_id} does not exist")
    return row


def passed_run(uow: UnitOfWork, version_id: int, stage: str) -> dict[str, Any] | None:
    """The run the latest `go` at `stage`'s gate let through (None if it never passed)."""
    decided = lifecycle_rows.passed_run_id(uow, version_id, stage)
    return None if decided is None else run_row(uow, decided)


def product_event(
    uow: UnitOfWork,
    version: dict[str, Any],
    name: str,
    actor: Actor,
    as_of: date,
    payload: dict[str, Any],
    *,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
) -> None:
    events.append(
        uow,
        events.NewEvent(
            entity="product",
            entity_id=version["product_code"],
            name=name,
            actor=actor.name,
            business_date=as_of,
            payload={"version": version["version"], **payload},
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
        ),
    )


def dumps(data: Any) -> str:
    """JSON as stored: stable key order, Chinese kept readable."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
