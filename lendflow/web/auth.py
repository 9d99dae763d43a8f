"""Who is calling: the bearer token of a request, as the acting user.

Every route gets its actor through the one dependency `current_actor`: the token is
looked up by its hash in the database (`identity.tokens.check_token`); a missing,
unknown, expired or revoked token, or a disabled user's, is 401 with one message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Unauthenticated
from lendflow.identity.tokens import check_token, record_use
from lendflow.web.problems import log
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
    after_answer: BackgroundTasks,
) -> Actor:
    """The user an `Authorization: Bearer TOKEN` header names; anything else is 401.

    The token's use, when due, is recorded after the answer is sent: that write may
    wait for the database's writer, and the request need not."""
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise Unauthenticated("send Authorization: Bearer TOKEN")
    # the wall clock decides only whether a token has expired, never a business date
    now = datetime.now(UTC)
    checked = check_token(ws, token, now)
    if checked.record_use_of is not None:
        after_answer.add_task(_record_use, ws, checked.record_use_of, now)
    return checked.actor


def _record_use(ws: Workspace, token_id: int, now: datetime) -> None:
    """Record a token's use after the answer went out; a failure is logged, not raised
    (the answer is sent, and the figure is only when a token was last used)."""
    try:
        record_use(ws, token_id, now)
    except Exception:
        log.warning("could not record the use of token %s", token_id, exc_info=True)


Acting = Annotated[Actor, Depends(current_actor)]
Ws = Annotated[Workspace, Depends(workspace_of)]
