"""What the identity use cases answer: users and tokens as an admin sees them.

A token's text appears in exactly one result, `IssuedToken`, the answer of the call
that made it: it is never stored, so no later answer can carry it.
"""

from __future__ import annotations

from datetime import datetime

from lendflow.workspace.results import Result


class UserView(Result):
    name: str
    full_name: str | None
    roles: list[str]
    disabled: bool
    has_password: bool
    created_at: datetime


class TokenView(Result):
    id: int
    user: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedToken(Result):
    token: str
    id: int
    user: str
    label: str | None
    expires_at: datetime | None


class SignedIn(Result):
    """A session just opened: `session` is the cookie's value, given only here."""

    session: str
    user: str
    roles: list[str]
    expires_at: datetime


class SessionView(Result):
    id: int
    user: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
