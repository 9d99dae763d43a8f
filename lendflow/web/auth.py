"""Who is calling: the bearer token of a request, as the acting user.

Every route gets its actor through the one dependency `current_actor`: the token is
looked up by its hash in the database (`identity.tokens.authenticate_token`); a missing,
unknown, expired or revoked token, or a disabled user's, is 401 with one message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Unauthenticated
from lendflow.identity.tokens import authenticate_token
from lendflow.workspace.context import Workspace


async def workspace_of(request: Request) -> Workspace:
    """The process's one workspace, made when the app started.

    Async because it never waits: FastAPI runs a plain `def` dependency on a worker
    thread, and that hand-off cost more than the lookup on every request."""
    ws: Workspace = request.app.state.workspace
    return ws


def current_actor(request: Request, ws: Annotated[Workspace, Depends(workspace_of)]) -> Actor:
    """The user an `Authorization: Bearer TOKEN` header names; anything else is 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer TOKEN")
    # the wall clock decides only whether a token has expired, never a business date
    return authenticate_token(ws, token.strip(), datetime.now(UTC))


Acting = Annotated[Actor, Depends(current_actor)]
Ws = Annotated[Workspace, Depends(workspace_of)]
