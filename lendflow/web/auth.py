"""Who is calling: the bearer token of a request, as the acting user.

Every route gets its actor through the one dependency `current_actor`, so swapping the
token lookup (`_authenticate`) changes nothing else.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from lendflow.access.permissions import Actor
from lendflow.domain.errors import BadInput, LendflowError
from lendflow.workspace.context import Workspace

TOKENS_ENV = "LENDFLOW_API_TOKENS"


class Unauthenticated(LendflowError):
    """No token, or one that names nobody: the caller must authenticate (HTTP 401)."""


def workspace_of(request: Request) -> Workspace:
    """The process's one workspace, made when the app started."""
    ws: Workspace = request.app.state.workspace
    return ws


def _authenticate(ws: Workspace, token: str, now: datetime) -> Actor:
    """TEMPORARY: tokens come from LENDFLOW_API_TOKENS (`token=user,token2=user2`) and name
    users of the workspace's users.yaml, until the token store in the database lands
    (`authenticate_token(ws, token, now)`); `now` is unused here."""
    del now
    pairs = (item.split("=", 1) for item in os.environ.get(TOKENS_ENV, "").split(",") if item)
    users = {t.strip(): u.strip() for t, u in pairs if t.strip() and u.strip()}
    name = users.get(token)
    if name is None:
        raise Unauthenticated("the bearer token is not valid")
    try:
        return ws.actor(name)
    except BadInput:
        raise Unauthenticated("the bearer token names no user of this workspace") from None


def current_actor(request: Request, ws: Annotated[Workspace, Depends(workspace_of)]) -> Actor:
    """The user an `Authorization: Bearer TOKEN` header names; anything else is 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer TOKEN")
    return _authenticate(ws, token.strip(), datetime.now(UTC))


Acting = Annotated[Actor, Depends(current_actor)]
Ws = Annotated[Workspace, Depends(workspace_of)]
