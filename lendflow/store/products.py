"""Product versions: which spec a loan is made under."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from lendflow.domain.errors import NotFound, Refused
from lendflow.store import driver
from lendflow.store.tables import product_versions, products
from lendflow.store.uow import UnitOfWork

PRODUCTS = products
VERSIONS = product_versions
_LIVE = (
    select(VERSIONS)
    .where(VERSIONS.c.product_code == bindparam("code"), VERSIONS.c.state == "live")
    .order_by(VERSIONS.c.version.desc())
)
_BY_ID = select(VERSIONS).where(VERSIONS.c.id == bindparam("version_id"))


def live_version(uow: UnitOfWork, code: str) -> dict[str, Any]:
    """The version of `code` that takes new applications."""
    row = driver.first(uow, _LIVE, {"code": code})  # every application reads it
    if row is None:
        known = uow.connection.execute(select(PRODUCTS.c.code).where(PRODUCTS.c.code == code))
        if known.first() is None:
            raise NotFound(f"product {code!r} does not exist")
        raise Refused(f"product {code} has no live version; it does not take applications")
    return row


def version_by_id(uow: UnitOfWork, version_id: int) -> dict[str, Any]:
    found = driver.first(uow, _BY_ID, {"version_id": version_id})  # every contract reads it
    if found is None:
        raise NotFound(f"product version {version_id} does not exist")
    return found


def latest_version(uow: UnitOfWork, code: str) -> dict[str, Any] | None:
    row = (
        uow.connection.execute(
            select(VERSIONS)
            .where(VERSIONS.c.product_code == code)
            .order_by(VERSIONS.c.version.desc())
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def ensure_product(uow: UnitOfWork, code: str, name: str) -> None:
    exists = uow.connection.execute(select(PRODUCTS.c.code).where(PRODUCTS.c.code == code)).first()
    if exists is None:
        uow.connection.execute(insert(PRODUCTS).values(code=code, name=name))


def next_version_number(uow: UnitOfWork, code: str) -> int:
    current = uow.connection.execute(
        select(func.max(VERSIONS.c.version)).where(VERSIONS.c.product_code == code)
    ).scalar_one()
    return int(current or 0) + 1


def insert_version(uow: UnitOfWork, values: dict[str, Any]) -> int:
    return int(
        uow.connection.execute(
            insert(VERSIONS).values(**values).returning(VERSIONS.c.id)
        ).scalar_one()
    )


def retire_live_versions(uow: UnitOfWork, code: str, except_id: int) -> list[int]:
    rows = uow.connection.execute(
        select(VERSIONS.c.id).where(
            VERSIONS.c.product_code == code, VERSIONS.c.state == "live", VERSIONS.c.id != except_id
        )
    ).all()
    ids = [r[0] for r in rows]
    if ids:
        uow.connection.execute(
            update(VERSIONS)
            .where(VERSIONS.c.id.in_(ids))
            .values(state="retired", row_version=VERSIONS.c.row_version + 1)
        )
    return ids
