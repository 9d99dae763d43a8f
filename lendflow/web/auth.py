"""Who is calling: the bearer token of a request, as the acting user.

Every route gets its actor through the one dependency `current_actor`: the token is
looked up by its hash in the database (`identity.tokens.authenticate_token`); a missing,
unknown, expired or revoked token, or a disabled user's, is 401 with one message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


# Declares the bearer scheme in the OpenAPI document (and the docs' Authorize button);
# refusing a missing or malformed header stays here, as a problem document.
_bearer = HTTPBearer(auto_error=False, description="An API token: `lendflow token create`.")


def current_actor(
    ws: Annotated[Workspace, Depends(workspace_of)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The user an `Authorization: Bearer TOKEN` header names; anything else is 401."""
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise Unauthenticated("send Authorization: Bearer TOKEN")
    # the wall clock decides only whether a token has expired, never a business date
    return authenticate_token(ws, token, datetime.now(UTC))


Acting = Annotated[Actor, Depends(current_actor)]
Ws = Annotated[Workspace, Depends(workspace_of)]
