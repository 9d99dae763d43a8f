"""What the console's pages share beyond rendering: the workspace, the one-line notices a
redirect after a POST carries (`done`, `refused`), and that redirect.

The notices are declared query parameters (a dependency), since the app refuses a query
parameter a route does not take."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse

from lendflow.domain.bounds import MAX_NOTE_LENGTH
from lendflow.workspace.context import Workspace

NoticeText = Annotated[str | None, Query(max_length=MAX_NOTE_LENGTH)]


@dataclass(frozen=True)
class Flash:
    """What the last action did (`done`) or why it was refused (`refused`)."""

    done: str | None = None
    refused: str | None = None


def _flash(done: NoticeText = None, refused: NoticeText = None) -> Flash:
    return Flash(done or None, refused or None)


Notices = Annotated[Flash, Depends(_flash)]


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def back(url: str, *, done: str | None = None, refused: str | None = None) -> RedirectResponse:
    """A 303 to `url` carrying what happened, shown once on the page it lands on."""
    query = urlencode({k: v for k, v in (("done", done), ("refused", refused)) if v})
    return RedirectResponse(f"{url}{'?' + query if query else ''}", status_code=303)


def form_key() -> str:
    """An idempotency key made when a form is rendered: a double click, a refresh or a
    second tab sends the same key, so the work it asks for starts once."""
    return secrets.token_urlsafe(16)
