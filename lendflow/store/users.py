"""The workspace's users and their API tokens (tables `users`, `api_tokens`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update

from lendflow.store.tables import api_tokens, users
from lendflow.store.uow import UnitOfWork

USERS = users
TOKENS = api_tokens


def count(uow: UnitOfWork) -> int:
    return int(uow.connection.execute(select(func.count()).select_from(USERS)).scalar_one())


def add(uow: UnitOfWork, values: Mapping[str, Any]) -> int:
    """Insert a user; returns its id."""
    return int(uow.connection.execute(insert(USERS).returning(USERS.c.id), values).scalar_one())


def add_all(uow: UnitOfWork, rows: Iterable[Mapping[str, Any]]) -> None:
    found = list(rows)
    if found:
        uow.connection.execute(insert(USERS), found)


def by_name(uow: UnitOfWork, name: str, *, for_update: bool = False) -> dict[str, Any] | None:
    query = select(USERS).where(USERS.c.name == name)
    if for_update:
        query = query.with_for_update()
    found = uow.connection.execute(query).mappings().first()
    return dict(found) if found is not None else None


def every(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every user, by name."""
    rows = uow.connection.execute(select(USERS).order_by(USERS.c.name)).mappings()
    return [dict(r) for r in rows]


def change(uow: UnitOfWork, user_id: int, **values: Any) -> None:
    uow.connection.execute(update(USERS).where(USERS.c.id == user_id).values(**values))


def add_token(uow: UnitOfWork, values: Mapping[str, Any]) -> int:
    """Insert a token (its hash, never its text); returns its id."""
    return int(uow.connection.execute(insert(TOKENS).returning(TOKENS.c.id), values).scalar_one())


def _tokens_with_owner() -> Any:
    return select(
        TOKENS,
        USERS.c.name.label("user_name"),
        USERS.c.roles.label("user_roles"),
        USERS.c.disabled.label("user_disabled"),
    ).join(USERS, USERS.c.id == TOKENS.c.user_id)


def token(uow: UnitOfWork, token_id: int, *, for_update: bool = False) -> dict[str, Any] | None:
    query = _tokens_with_owner().where(TOKENS.c.id == token_id)
    if for_update:
        query = query.with_for_update(of=TOKENS)
    found = uow.connection.execute(query).mappings().first()
    return dict(found) if found is not None else None


def tokens(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every token with its owner's name, by id."""
    rows = uow.connection.execute(_tokens_with_owner().order_by(TOKENS.c.id)).mappings()
    return [dict(r) for r in rows]


def revoke_token(uow: UnitOfWork, token_id: int, at: datetime) -> None:
    uow.connection.execute(update(TOKENS).where(TOKENS.c.id == token_id).values(revoked_at=at))


def mark_used(uow: UnitOfWork, token_id: int, at: datetime, unless_since: datetime) -> None:
    """Record a token's use at `at`, unless it was recorded at or after `unless_since`.

    The condition is in the UPDATE, so of requests racing on one token only the first
    writes; the others find the condition false once it committed and change no row."""
    uow.connection.execute(
        update(TOKENS)
        .where(
            TOKENS.c.id == token_id,
            or_(TOKENS.c.last_used_at.is_(None), TOKENS.c.last_used_at < unless_since),
        )
        .values(last_used_at=at)
    )
