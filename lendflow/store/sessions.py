"""Console sessions and sign-in lockout (tables `console_sessions`, `users`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update

from lendflow.store.tables import console_sessions, users
from lendflow.store.uow import UnitOfWork

SESSIONS = console_sessions
USERS = users


def add(uow: UnitOfWork, values: Mapping[str, Any]) -> int:
    """Insert a session (the hash of its id, never the id); returns its row id."""
    return int(
        uow.connection.execute(insert(SESSIONS).returning(SESSIONS.c.id), values).scalar_one()
    )


def of_user(uow: UnitOfWork, user_id: int) -> list[dict[str, Any]]:
    """A user's sessions, newest first."""
    query = select(SESSIONS).where(SESSIONS.c.user_id == user_id).order_by(SESSIONS.c.id.desc())
    return [dict(r) for r in uow.connection.execute(query).mappings()]


def by_hash(uow: UnitOfWork, session_hash: str) -> dict[str, Any] | None:
    query = select(SESSIONS).where(SESSIONS.c.session_hash == session_hash)
    found = uow.connection.execute(query).mappings().first()
    return dict(found) if found is not None else None


def revoke(uow: UnitOfWork, session_id: int, at: datetime) -> None:
    uow.connection.execute(
        update(SESSIONS)
        .where(SESSIONS.c.id == session_id, SESSIONS.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )


def revoke_all(uow: UnitOfWork, user_id: int, at: datetime) -> int:
    """End every live session of a user; how many were live."""
    done = uow.connection.execute(
        update(SESSIONS)
        .where(SESSIONS.c.user_id == user_id, SESSIONS.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return int(done.rowcount)


def touch(uow: UnitOfWork, session_id: int, at: datetime, unless_since: datetime) -> None:
    """Record that a session was used at `at`, unless recorded at or after `unless_since`."""
    uow.connection.execute(
        update(SESSIONS)
        .where(SESSIONS.c.id == session_id, or_(SESSIONS.c.last_seen_at < unless_since))
        .values(last_seen_at=at)
    )


def record_sign_in_failure(uow: UnitOfWork, user_id: int, failures: int, locked_until: Any) -> None:
    uow.connection.execute(
        update(USERS)
        .where(USERS.c.id == user_id)
        .values(failed_sign_ins=failures, locked_until=locked_until)
    )


def clear_sign_in_failures(uow: UnitOfWork, user_id: int) -> None:
    uow.connection.execute(
        update(USERS).where(USERS.c.id == user_id).values(failed_sign_ins=0, locked_until=None)
    )
