"""API tokens: made for a user, shown once, kept only as a hash, revoked by id.

A token is 32 random bytes (256 bits) in URL-safe text behind the prefix `lf_`; the
`api_tokens` table keeps its SHA-256. A fast unsalted hash is right here, unlike for
passwords: nobody can guess a 256-bit secret, so a stolen table gives no token back,
and the lookup by hash stays one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission, actor_of_row
from lendflow.domain.bounds import check_text
from lendflow.domain.errors import BadInput, NotFound, Refused, Unauthenticated
from lendflow.identity.results import IssuedToken, TokenView
from lendflow.identity.users import as_utc
from lendflow.store import users as store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

PREFIX = "lf_"
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 200
MAX_EXPIRY_DAYS = 3650
USE_RECORDED_EVERY = timedelta(minutes=1)
NOT_AUTHENTICATED = "missing, unknown, expired or revoked token"


def token_hash(token: str) -> str:
    """What the table keeps of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def view(row: Mapping[str, Any]) -> TokenView:
    def moment(value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    return TokenView(
        id=row["id"],
        user=row["user_name"],
        label=row["label"],
        created_at=as_utc(row["created_at"]),
        expires_at=moment(row["expires_at"]),
        revoked_at=moment(row["revoked_at"]),
        last_used_at=moment(row["last_used_at"]),
    )


def create_token(
    ws: Workspace,
    actor: Actor,
    user: str,
    now: datetime,
    *,
    label: str | None = None,
    expires_days: int | None = None,
) -> IssuedToken:
    """Make a token for an enabled user; the answer is the only place its text appears."""
    actor.require(Permission.MANAGE_USERS, "manage users")
    if label is not None:
        check_text(label, field="--name", max_length=100)
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise BadInput(f"--expires must be from 1 to {MAX_EXPIRY_DAYS} days, got {expires_days}")
    created = as_utc(now)
    expires = created + timedelta(days=expires_days) if expires_days is not None else None
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)

    def issue(uow: UnitOfWork) -> IssuedToken:
        owner = store.by_name(uow, user)
        if owner is None:
            raise NotFound(f"user {user} does not exist")
        if owner["disabled"]:
            raise Refused(f"user {user} is disabled")
        token_id = store.add_token(
            uow,
            {
                "user_id": owner["id"],
                "label": label,
                "token_hash": token_hash(token),
                "created_at": created,
                "expires_at": expires,
            },
        )
        return IssuedToken(token=token, id=token_id, user=user, label=label, expires_at=expires)

    return run_in_transaction(ws.engine, issue)


def revoke_token(ws: Workspace, actor: Actor, token_id: int, now: datetime) -> TokenView:
    """Revoke a token by id: it is refused from now on. Revoked twice is refused."""
    actor.require(Permission.MANAGE_USERS, "manage users")

    def revoke(uow: UnitOfWork) -> TokenView:
        row = store.token(uow, token_id, for_update=True)
        if row is None:
            raise NotFound(f"token {token_id} does not exist")
        if row["revoked_at"] is not None:
            raise Refused(f"token {token_id} is revoked already")
        store.revoke_token(uow, token_id, as_utc(now))
        return view({**row, "revoked_at": as_utc(now)})

    return run_in_transaction(ws.engine, revoke)


def list_tokens(ws: Workspace, actor: Actor) -> list[TokenView]:
    """Every token, revoked and expired ones too; never a token's text or hash."""
    actor.require(Permission.MANAGE_USERS, "manage users")
    return run_in_transaction(ws.engine, lambda uow: [view(r) for r in store.tokens(uow)])


@dataclass(frozen=True)
class TokenCheck:
    """Whom a token stands for, and which token, if its use is due to be recorded."""

    actor: Actor
    record_use_of: int | None


def check_token(ws: Workspace, token: str, now: datetime) -> TokenCheck:
    """The actor a bearer token stands for, or `Unauthenticated` with one message for
    every failure (none, unknown, expired, revoked, its user disabled).

    A plain read, never a write transaction: a server checks a token on every request,
    and on SQLite a write transaction would queue every reader behind the one writer
    (a close of business holding it would stall them all).

    Compared by looking its hash up, not by comparing texts, so no constant-time
    comparison is needed: the time a lookup takes depends on the hash, which an
    attacker who does not have the token cannot steer towards a stored one."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated(NOT_AUTHENTICATED)
    moment = as_utc(now)
    reader = ws.reader()
    try:
        row = reader.token(token_hash(token))
    finally:
        reader.close()
    if row is None or not _usable(row, moment):
        raise Unauthenticated(NOT_AUTHENTICATED)
    last = row["last_used_at"]
    due = last is None or as_utc(last) < moment - USE_RECORDED_EVERY
    actor = actor_of_row(row["user_name"], (row["user_roles"], False))
    return TokenCheck(actor, row["id"] if due else None)


def record_use(ws: Workspace, token_id: int, now: datetime) -> None:
    """Record a token's use, at most once a minute (`USE_RECORDED_EVERY`).

    A write on every request would serialise a client's requests on the token's row
    for a figure nobody needs to the second; a minute still shows which tokens are in
    use and which are stale. The condition is in the UPDATE, so of requests racing on
    one token only the first writes."""
    moment = as_utc(now)
    since = moment - USE_RECORDED_EVERY
    run_in_transaction(ws.engine, lambda uow: store.mark_used(uow, token_id, moment, since))


def authenticate_token(ws: Workspace, token: str, now: datetime) -> Actor:
    """`check_token`, recording the use at once when it is due (a server records it
    after answering instead)."""
    checked = check_token(ws, token, now)
    if checked.record_use_of is not None:
        record_use(ws, checked.record_use_of, now)
    return checked.actor


def _usable(row: Mapping[str, Any], moment: datetime) -> bool:
    if row["revoked_at"] is not None or row["user_disabled"]:
        return False
    expires = row["expires_at"]
    return expires is None or moment < as_utc(expires)
