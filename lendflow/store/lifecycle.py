"""The product lifecycle's rows: products, their versions, stage runs, gate decisions and
where an improved version came from.

Plain reads and writes only: whether a row may be written, and what a missing row
means, is decided by the lifecycle (`lifecycle.records`). A read that answers "none"
returns None; the caller says why that is an error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import desc, insert, select, update

from lendflow.store.tables import (
    gate_decisions,
    product_versions,
    products,
    stage_runs,
    utc_now,
    version_origins,
)
from lendflow.store.uow import UnitOfWork

PRODUCTS = products
VERSIONS = product_versions
RUNS = stage_runs
DECISIONS = gate_decisions
ORIGINS = version_origins

# --- products ------------------------------------------------------------------------------


def product(uow: UnitOfWork, code: str) -> dict[str, Any] | None:
    row = uow.connection.execute(select(PRODUCTS).where(PRODUCTS.c.code == code)).mappings()
    found = row.first()
    return None if found is None else dict(found)


def product_exists(uow: UnitOfWork, code: str) -> bool:
    found = uow.connection.execute(select(PRODUCTS.c.code).where(PRODUCTS.c.code == code)).first()
    return found is not None


def add_product(uow: UnitOfWork, code: str, name: str) -> None:
    uow.connection.execute(insert(PRODUCTS).values(code=code, name=name))


def all_products(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every product, in code order."""
    rows = uow.connection.execute(select(PRODUCTS).order_by(PRODUCTS.c.code)).mappings()
    return [dict(r) for r in rows]


# --- product versions ----------------------------------------------------------------------


def versions_of(uow: UnitOfWork, code: str) -> list[dict[str, Any]]:
    """The versions of a product, oldest first."""
    rows = uow.connection.execute(
        select(VERSIONS).where(VERSIONS.c.product_code == code).order_by(VERSIONS.c.version)
    ).mappings()
    return [dict(r) for r in rows]


def latest_version(
    uow: UnitOfWork, code: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    """The newest version of `code`; with `for_update` it is locked until the transaction ends."""
    query = (
        select(VERSIONS)
        .where(VERSIONS.c.product_code == code)
        .order_by(desc(VERSIONS.c.version))
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()
    row = uow.connection.execute(query).mappings().first()
    return None if row is None else dict(row)


def newest_live_version(
    uow: UnitOfWork, code: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    """The newest live version of `code` (an older one is live only until it is retired)."""
    query = (
        select(VERSIONS)
        .where(VERSIONS.c.product_code == code, VERSIONS.c.state == "live")
        .order_by(desc(VERSIONS.c.version))
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()
    row = uow.connection.execute(query).mappings().first()
    return None if row is None else dict(row)


def version_for_update(uow: UnitOfWork, version_id: int) -> dict[str, Any] | None:
    """A version by id, locked until the transaction ends: it is read to be written."""
    row = (
        uow.connection.execute(
            select(VERSIONS).where(VERSIONS.c.id == version_id).with_for_update()
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def add_draft_version(uow: UnitOfWork, code: str, number: int, created_by: str) -> int:
    """Insert version `number` of `code` as a draft; returns its id."""
    return int(
        uow.connection.execute(
            insert(VERSIONS)
            .values(product_code=code, version=number, state="draft", created_by=created_by)
            .returning(VERSIONS.c.id)
        ).scalar_one()
    )


def save_version(uow: UnitOfWork, version: dict[str, Any], values: dict[str, Any]) -> bool:
    """Write `values` and bump the row version, only if the row version is still the one
    read; False when someone changed the version in between (nothing is written)."""
    done = uow.connection.execute(
        update(VERSIONS)
        .where(VERSIONS.c.id == version["id"], VERSIONS.c.row_version == version["row_version"])
        .values(**values, row_version=version["row_version"] + 1)
    )
    return bool(done.rowcount == 1)


def live_product_codes(uow: UnitOfWork) -> list[str]:
    """The codes of every product with a live version, in code order."""
    rows = uow.connection.execute(
        select(VERSIONS.c.product_code)
        .where(VERSIONS.c.state == "live")
        .distinct()
        .order_by(VERSIONS.c.product_code)
    )
    return [str(r[0]) for r in rows]


# --- stage runs ----------------------------------------------------------------------------


def add_run(uow: UnitOfWork, values: dict[str, Any]) -> int:
    return int(
        uow.connection.execute(insert(RUNS).values(**values).returning(RUNS.c.id)).scalar_one()
    )


def finish_run(uow: UnitOfWork, run_id: int, values: dict[str, Any]) -> None:
    """Write how a run ended (`values`), stamped with the time it finished."""
    uow.connection.execute(
        update(RUNS).where(RUNS.c.id == run_id).values(**values, finished_at=utc_now())
    )


def run(uow: UnitOfWork, run_id: int) -> dict[str, Any] | None:
    row = uow.connection.execute(select(RUNS).where(RUNS.c.id == run_id)).mappings().first()
    return None if row is None else dict(row)


def runs_of(uow: UnitOfWork, version_id: int, stage: str | None = None) -> list[dict[str, Any]]:
    """The runs of a version (of one stage), oldest first, without their report bytes."""
    columns = [c for c in RUNS.c if c.name != "report"]
    query = select(*columns).where(RUNS.c.version_id == version_id)
    if stage is not None:
        query = query.where(RUNS.c.stage == stage)
    rows = uow.connection.execute(query.order_by(RUNS.c.id)).mappings()
    return [dict(r) for r in rows]


# --- gate decisions ------------------------------------------------------------------------


def decisions_of(uow: UnitOfWork, version_id: int) -> list[dict[str, Any]]:
    """The gate decisions on a version, oldest first."""
    rows = uow.connection.execute(
        select(DECISIONS).where(DECISIONS.c.version_id == version_id).order_by(DECISIONS.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def add_decision(uow: UnitOfWork, values: dict[str, Any]) -> int:
    return int(
        uow.connection.execute(
            insert(DECISIONS).values(**values).returning(DECISIONS.c.id)
        ).scalar_one()
    )


def passed_run_id(uow: UnitOfWork, version_id: int, stage: str) -> int | None:
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
    return None if decided is None else int(decided)


# --- where an improved version came from ---------------------------------------------------


def add_version_origin(uow: UnitOfWork, values: dict[str, Any]) -> None:
    uow.connection.execute(insert(ORIGINS).values(**values))


def version_origin(uow: UnitOfWork, version_id: int) -> dict[str, Any] | None:
    """The improvement a version was opened by (None for a version created as a draft)."""
    row = (
        uow.connection.execute(select(ORIGINS).where(ORIGINS.c.version_id == version_id))
        .mappings()
        .first()
    )
    return None if row is None else dict(row)
