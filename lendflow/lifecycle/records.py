"""Reading and writing the lifecycle's rows: versions in the pipeline, stage runs, decisions.

Every write to a product version carries the row version it read (optimistic
locking): a version changed by someone else in between is a clear conflict,
never a lost update. Every change appends an event for the product.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import desc, insert, select, update

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Conflict, NotFound, Refused
from lendflow.lifecycle.catalog import STAGE_IDS, held_stage
from lendflow.store import events
from lendflow.store.tables import gate_decisions, product_versions, products, stage_runs, utc_now
from lendflow.store.uow import UnitOfWork

VERSIONS = product_versions
RUNS = stage_runs
DECISIONS = gate_decisions
DONE_STATES = frozenset({"live", "retired"})


def label(version: dict[str, Any]) -> str:
    """How a refusal names a version: `product anxin v1`."""
    return f"product {version['product_code']} v{version['version']}"


def product_row(uow: UnitOfWork, code: str) -> dict[str, Any]:
    row = uow.connection.execute(select(products).where(products.c.code == code)).mappings()
    found = row.first()
    if found is None:
        raise NotFound(f"product {code!r} does not exist")
    return dict(found)


def versions_of(uow: UnitOfWork, code: str) -> list[dict[str, Any]]:
    rows = uow.connection.execute(
        select(VERSIONS).where(VERSIONS.c.product_code == code).order_by(VERSIONS.c.version)
    ).mappings()
    return [dict(r) for r in rows]


def latest_version(uow: UnitOfWork, code: str, *, for_update: bool = False) -> dict[str, Any]:
    """The newest version of `code`; the product must exist and have one."""
    query = (
        select(VERSIONS)
        .where(VERSIONS.c.product_code == code)
        .order_by(desc(VERSIONS.c.version))
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()
    row = uow.connection.execute(query).mappings().first()
    if row is None:
        product_row(uow, code)
        raise NotFound(f"product {code!r} has no versions")
    return dict(row)


def pipeline_version(uow: UnitOfWork, code: str) -> dict[str, Any]:
    """The version of `code` in development: the newest, unless it is already live or retired."""
    version = latest_version(uow, code, for_update=True)
    if version["state"] in DONE_STATES:
        raise Refused(
            f"product {code} has no version in development (v{version['version']} is"
            f" {version['state']})"
        )
    return version


def version_by_id(uow: UnitOfWork, version_id: int) -> dict[str, Any]:
    row = (
        uow.connection.execute(
            select(VERSIONS).where(VERSIONS.c.id == version_id).with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"product version {version_id} does not exist")
    return dict(row)


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
    done = uow.connection.execute(
        update(VERSIONS)
        .where(VERSIONS.c.id == version["id"], VERSIONS.c.row_version == version["row_version"])
        .values(**values, row_version=version["row_version"] + 1)
    )
    if done.rowcount != 1:
        raise Conflict(f"{label(version)} was changed by someone else; try again")


def insert_run(uow: UnitOfWork, values: dict[str, Any]) -> int:
    return int(
        uow.connection.execute(insert(RUNS).values(**values).returning(RUNS.c.id)).scalar_one()
    )


def update_run(uow: UnitOfWork, run_id: int, values: dict[str, Any]) -> None:
    uow.connection.execute(
        update(RUNS).where(RUNS.c.id == run_id).values(**values, finished_at=utc_now())
    )


def run_row(uow: UnitOfWork, run_id: int) -> dict[str, Any]:
    row = uow.connection.execute(select(RUNS).where(RUNS.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFound(f"stage run {run_id} does not exist")
    return dict(row)


def runs_of(uow: UnitOfWork, version_id: int, stage: str | None = None) -> list[dict[str, Any]]:
    """The runs of a version (of one stage), oldest first, without their report bytes."""
    columns = [c for c in RUNS.c if c.name != "report"]
    query = select(*columns).where(RUNS.c.version_id == version_id)
    if stage is not None:
        query = query.where(RUNS.c.stage == stage)
    rows = uow.connection.execute(query.order_by(RUNS.c.id)).mappings()
    return [dict(r) for r in rows]


def decisions_of(uow: UnitOfWork, version_id: int) -> list[dict[str, Any]]:
    rows = uow.connection.execute(
        select(DECISIONS).where(DECISIONS.c.version_id == version_id).order_by(DECISIONS.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def insert_decision(uow: UnitOfWork, values: dict[str, Any]) -> int:
    return int(
        uow.connection.execute(
            insert(DECISIONS).values(**values).returning(DECISIONS.c.id)
        ).scalar_one()
    )


def passed_run(uow: UnitOfWork, version_id: int, stage: str) -> dict[str, Any] | None:
    """The run the latest `go` at `stage`'s gate let through (None if it never passed)."""
    decided = uow.connection.execute(
        select(DECISIONS.c.run_id)
        .where(
            DECISIONS.c.version_id == version_id,
            DECISIONS.c.stage == stage,
            DECISIONS.c.decision == "go",
        )
        .order_by(desc(DECISIONS.c.id))
        .limit(1)
    ).scalar()
    return None if decided is None else run_row(uow, int(decided))


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
