"""The workspace's staff: adding, listing and disabling users, and their passwords.

Every use case here is an admin's (`Permission.MANAGE_USERS`) and takes the moment
it acts as `now` (UTC, for the audit columns only; nothing here is a business date).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import (
    Actor,
    Permission,
    actor_of_row,
    format_roles,
    parse_roles,
    require_known_role,
)
from lendflow.domain.bounds import check_text
from lendflow.domain.errors import BadInput, NotFound, Refused, Unauthenticated
from lendflow.identity.results import UserView
from lendflow.store import users as store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from pwdlib import PasswordHash

    from lendflow.config.users import Directory
    from lendflow.store.engine import Engine
    from lendflow.workspace.context import Workspace

USER_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # Argon2 takes any length; a bound keeps a request from costing more
WRONG_PASSWORD = "wrong user name or password"


def as_utc(moment: datetime) -> datetime:
    """A moment in UTC. SQLite keeps timestamps without their zone, so every moment is
    stored in UTC and one read back without a zone is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def check_user_name(name: str) -> str:
    """A user name as `--as` and LENDFLOW_USER will type it: lower-case ASCII."""
    if not USER_NAME.fullmatch(name):
        raise BadInput(
            f"user name must be lower-case letters, digits, '.', '_' or '-' (starting with a"
            f" letter, at most 64), got {name[:20]!r}"
        )
    return name


def view(row: Mapping[str, Any]) -> UserView:
    return UserView(
        name=row["name"],
        full_name=row["full_name"],
        roles=sorted(parse_roles(row["roles"])),
        disabled=bool(row["disabled"]),
        has_password=row["password_hash"] is not None,
        created_at=as_utc(row["created_at"]),
    )


def seed(engine: Engine, directory: Directory, now: datetime) -> int:
    """Copy a users.yaml directory into an empty `users` table; returns how many.

    Only a table with no users is seeded: once it has any, it is the directory, and
    users.yaml (edited or not) never adds, changes or brings back anyone."""

    def seed_empty(uow: UnitOfWork) -> int:
        if store.count(uow):
            return 0
        rows = [
            {
                "name": name,
                "full_name": user.name or None,
                "roles": format_roles(user.roles),
                "disabled": False,
                "created_at": as_utc(now),
            }
            for name, user in sorted(directory.users.items())
        ]
        store.add_all(uow, rows)
        return len(rows)

    return run_in_transaction(engine, seed_empty)


def add_user(
    ws: Workspace,
    actor: Actor,
    name: str,
    roles: Iterable[str],
    now: datetime,
    *,
    full_name: str | None = None,
) -> UserView:
    """Add a user with known roles; a name already taken is refused."""
    actor.require(Permission.MANAGE_USERS, "manage users")
    check_user_name(name)
    wanted = [require_known_role(role) for role in roles]
    if not wanted:
        raise BadInput("give the user at least one --role")
    if full_name is not None:
        check_text(full_name, field="--full-name")

    def add(uow: UnitOfWork) -> UserView:
        if store.by_name(uow, name) is not None:
            raise Refused(f"user {name} exists already")
        values = {
            "name": name,
            "full_name": full_name,
            "roles": format_roles(wanted),
            "disabled": False,
            "created_at": as_utc(now),
        }
        store.add(uow, values)
        return view({**values, "password_hash": None})

    return run_in_transaction(ws.engine, add)


def list_users(ws: Workspace, actor: Actor) -> list[UserView]:
    actor.require(Permission.MANAGE_USERS, "manage users")
    return run_in_transaction(ws.engine, lambda uow: [view(r) for r in store.every(uow)])


def disable_user(ws: Workspace, actor: Actor, name: str) -> UserView:
    """Disable a user: `--as` and every token of theirs are refused from now on.

    An admin may not disable themself: the last admin doing so would leave nobody who
    could enable anyone again."""
    actor.require(Permission.MANAGE_USERS, "manage users")
    if name == actor.name:
        raise Refused(f"user {name} may not disable themself")

    def disable(uow: UnitOfWork) -> UserView:
        row = _existing(uow, name)
        if row["disabled"]:
            raise Refused(f"user {name} is disabled already")
        store.change(uow, row["id"], disabled=True)
        return view({**row, "disabled": True})

    return run_in_transaction(ws.engine, disable)


def set_password(ws: Workspace, actor: Actor, name: str, password: str) -> UserView:
    """Set a user's password, kept as an Argon2 hash (pwdlib's recommended parameters).

    Hashed before the transaction opens: Argon2 takes a tenth of a second on purpose,
    and no row should stay locked while it runs."""
    actor.require(Permission.MANAGE_USERS, "manage users")
    _check_password(password)
    hashed = _hasher().hash(password)

    def store_hash(uow: UnitOfWork) -> UserView:
        row = _existing(uow, name)
        store.change(uow, row["id"], password_hash=hashed, failed_sign_ins=0, locked_until=None)
        return view({**row, "password_hash": hashed})

    return run_in_transaction(ws.engine, store_hash)


def verify_password(ws: Workspace, name: str, password: str) -> Actor:
    """The user whose password this is.

    An unknown name, a user without a password, a wrong password and a disabled user
    all raise the same `Unauthenticated`, and an unknown name still costs one Argon2
    verification, so neither the message nor the time tells which names exist."""
    row = run_in_transaction(ws.engine, lambda uow: store.by_name(uow, name))
    if row is None or not password_matches(row, password[:MAX_PASSWORD]):
        raise Unauthenticated(WRONG_PASSWORD)
    return actor_of_row(name, (row["roles"], False))


def password_matches(row: Mapping[str, Any] | None, password: str) -> bool:
    """Whether `password` is the password of the user `row` (None: no such user), and
    the user may sign in. An unknown user costs one verification too (a decoy hash)."""
    stored = row["password_hash"] if row is not None else None
    matches = _hasher().verify(password, stored or _decoy_hash())
    return row is not None and stored is not None and matches and not row["disabled"]


def _existing(uow: UnitOfWork, name: str) -> dict[str, Any]:
    row = store.by_name(uow, name, for_update=True)
    if row is None:
        raise NotFound(f"user {name} does not exist")
    return row


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadInput(f"password is too long: at most {MAX_PASSWORD} characters")
    if password != password.strip() or "\n" in password:
        raise BadInput("password must not start or end with spaces or hold a line break")


@cache
def _hasher() -> PasswordHash:
    """Argon2id through pwdlib, imported on first use (plain commands never need it)."""
    from pwdlib import PasswordHash

    return PasswordHash.recommended()


@cache
def _decoy_hash() -> str:
    return _hasher().hash("not anybody's password")
