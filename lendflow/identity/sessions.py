"""Signing in to the web console: passwords, server-side sessions and lockout.

A session is a random id in an `HttpOnly` cookie; the database keeps only its SHA-256
(`console_sessions`), so a stolen table opens no session, and a session is ended by
revoking its row, at once and everywhere. It lasts at most `SESSION_LIFETIME` and ends
after `IDLE_TIMEOUT` unused. Five failed sign-ins in a row lock the account for
`LOCKOUT`, the guessing a password hash alone cannot stop. Sign-ins, failures and
locks are events of the user in the audit trail.

The moments here are wall-clock UTC, for security only, never a business date.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission, actor_of_row
from lendflow.domain.errors import NotFound, Unauthenticated
from lendflow.identity.results import SessionView, SignedIn
from lendflow.identity.users import MAX_PASSWORD, WRONG_PASSWORD, as_utc, password_matches
from lendflow.store import events
from lendflow.store import sessions as store
from lendflow.store import users as user_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

SESSION_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(minutes=30)
SEEN_RECORDED_EVERY = timedelta(minutes=1)
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_BYTES = 32
MAX_SESSION_TEXT = 200
SIGNED_OUT = "your session has ended: sign in again"


def session_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionCheck:
    """Who a session is, and its row if its use is due to be recorded."""

    actor: Actor
    session_id: int
    touch_due: bool


def sign_in(ws: Workspace, name: str, password: str, now: datetime) -> SignedIn:
    """Open a session for the user whose password this is.

    Every failure says the same (`WRONG_PASSWORD`) except a locked account, which says
    until when; a known user's failures count towards the lock. The password is
    checked outside any transaction (Argon2 takes a while; no lock is held meanwhile)."""
    moment = as_utc(now)
    name = name.strip()[:64]
    row = run_in_transaction(ws.engine, lambda uow: user_store.by_name(uow, name))
    _refuse_if_locked(row, moment)
    good = password_matches(row, password[:MAX_PASSWORD])
    if row is None:
        raise Unauthenticated(WRONG_PASSWORD)
    if not good:
        locked = run_in_transaction(ws.engine, lambda uow: _count_failure(uow, name, moment))
        if locked is not None:
            raise Unauthenticated(_locked_message(name, locked))
        raise Unauthenticated(WRONG_PASSWORD)
    text = secrets.token_urlsafe(SESSION_BYTES)

    def open_session(uow: UnitOfWork) -> SignedIn:
        current = user_store.by_name(uow, name, for_update=True)
        if current is None or current["disabled"]:
            raise Unauthenticated(WRONG_PASSWORD)
        store.clear_sign_in_failures(uow, current["id"])
        expires = moment + SESSION_LIFETIME
        store.add(
            uow,
            {
                "user_id": current["id"],
                "session_hash": session_hash(text),
                "created_at": moment,
                "last_seen_at": moment,
                "expires_at": expires,
            },
        )
        _user_event(uow, name, "SignedIn", moment)
        actor = actor_of_row(name, (current["roles"], False))
        return SignedIn(session=text, user=name, roles=sorted(actor.roles), expires_at=expires)

    return run_in_transaction(ws.engine, open_session)


def _refuse_if_locked(row: dict[str, Any] | None, moment: datetime) -> None:
    if row is None or row["locked_until"] is None:
        return
    until = as_utc(row["locked_until"])
    if until > moment:
        raise Unauthenticated(_locked_message(row["name"], until))


def _locked_message(name: str, until: datetime) -> str:
    return (
        f"too many failed sign-ins: {name} is locked until {until:%Y-%m-%d %H:%M} UTC;"
        " an admin can unlock it sooner by setting a new password"
    )


def _count_failure(uow: UnitOfWork, name: str, moment: datetime) -> datetime | None:
    """Count one more failure; the moment the account is now locked until, if it is."""
    row = user_store.by_name(uow, name, for_update=True)
    if row is None:
        return None
    failures = int(row["failed_sign_ins"]) + 1
    if failures >= MAX_FAILED_SIGN_INS:
        until = moment + LOCKOUT
        store.record_sign_in_failure(uow, row["id"], 0, until)
        _user_event(uow, name, "AccountLocked", moment, {"until": until.isoformat()})
        return until
    store.record_sign_in_failure(uow, row["id"], failures, None)
    _user_event(uow, name, "SignInFailed", moment, {"failures": failures})
    return None


def _user_event(
    uow: UnitOfWork, name: str, event: str, moment: datetime, payload: dict[str, Any] | None = None
) -> None:
    events.append(
        uow,
        events.NewEvent(
            entity="user",
            entity_id=name,
            name=event,
            actor=name,
            business_date=moment.date(),
            payload=payload or {},
        ),
    )


def check_session(ws: Workspace, text: str, now: datetime) -> SessionCheck:
    """The actor a session cookie stands for, or `Unauthenticated` (gone, revoked,
    expired, idle too long, or its user disabled). A plain read, as for API tokens."""
    if not text or len(text) > MAX_SESSION_TEXT:
        raise Unauthenticated(SIGNED_OUT)
    moment = as_utc(now)
    reader = ws.reader()
    try:
        row = reader.session(session_hash(text))
    finally:
        reader.close()
    if row is None or row["revoked_at"] is not None or row["user_disabled"]:
        raise Unauthenticated(SIGNED_OUT)
    seen = as_utc(row["last_seen_at"])
    if moment >= as_utc(row["expires_at"]) or moment - seen > IDLE_TIMEOUT:
        raise Unauthenticated(SIGNED_OUT)
    actor = actor_of_row(row["user_name"], (row["user_roles"], False))
    return SessionCheck(actor, row["id"], moment - seen >= SEEN_RECORDED_EVERY)


def record_seen(ws: Workspace, session_id: int, now: datetime) -> None:
    """Move a session's idle clock on (at most once a minute)."""
    moment = as_utc(now)
    since = moment - SEEN_RECORDED_EVERY
    run_in_transaction(ws.engine, lambda uow: store.touch(uow, session_id, moment, since))


def sign_out(ws: Workspace, text: str, now: datetime) -> None:
    """End the session of this cookie (nothing to do for one already gone)."""
    moment = as_utc(now)

    def end(uow: UnitOfWork) -> None:
        row = store.by_hash(uow, session_hash(text[:MAX_SESSION_TEXT]))
        if row is not None:
            store.revoke(uow, row["id"], moment)

    run_in_transaction(ws.engine, end)


def user_sessions(ws: Workspace, actor: Actor, name: str) -> list[SessionView]:
    """A user's console sessions, newest first (admin)."""
    actor.require(Permission.MANAGE_USERS, "manage users")

    def listed(uow: UnitOfWork) -> list[SessionView]:
        user = _user(uow, name)
        return [_view(name, row) for row in store.of_user(uow, user["id"])]

    return run_in_transaction(ws.engine, listed)


def revoke_sessions(ws: Workspace, actor: Actor, name: str, now: datetime) -> int:
    """End every live session of a user at once (admin); how many were live."""
    actor.require(Permission.MANAGE_USERS, "manage users")
    moment = as_utc(now)

    def revoke(uow: UnitOfWork) -> int:
        user = _user(uow, name)
        ended = store.revoke_all(uow, user["id"], moment)
        _user_event(uow, name, "SessionsRevoked", moment, {"by": actor.name, "ended": ended})
        return ended

    return run_in_transaction(ws.engine, revoke)


def _user(uow: UnitOfWork, name: str) -> dict[str, Any]:
    row = user_store.by_name(uow, name)
    if row is None:
        raise NotFound(f"user {name} does not exist")
    return row


def _view(name: str, row: dict[str, Any]) -> SessionView:
    def moment(value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    return SessionView(
        id=row["id"],
        user=name,
        created_at=as_utc(row["created_at"]),
        last_seen_at=as_utc(row["last_seen_at"]),
        expires_at=as_utc(row["expires_at"]),
        revoked_at=moment(row["revoked_at"]),
    )
