"""Who is signed in to the console: the session cookie, checked on every page.

A page's dependency `signed_in` answers the actor or sends the browser to the sign-in
page (303) with where it was going; the session's idle clock is moved on after the
answer, as an API token's use is recorded. The cookie is `HttpOnly`, `SameSite=Lax`,
and `Secure` when the request came over TLS.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import BackgroundTasks, Depends, Request

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Unauthenticated
from lendflow.identity.sessions import SESSION_LIFETIME, check_session, record_seen
from lendflow.web.problems import log
from lendflow.workspace.context import Workspace

COOKIE = "lendflow_session"


class SignInNeeded(Exception):
    """Raised by `signed_in`: the app answers with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def now() -> datetime:
    # the wall clock decides only whether a session is still good, never a business date
    return datetime.now(UTC)


def signed_in(request: Request, after_answer: BackgroundTasks) -> Actor:
    ws: Workspace = request.app.state.workspace
    text = request.cookies.get(COOKIE, "")
    try:
        checked = check_session(ws, text, now())
    except Unauthenticated:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target) from None
    if checked.touch_due:
        after_answer.add_task(_record_seen, ws, checked.session_id)
    return checked.actor


def _record_seen(ws: Workspace, session_id: int) -> None:
    try:
        record_seen(ws, session_id, now())
    except Exception:
        log.warning("could not record the use of console session %s", session_id, exc_info=True)


def login_url(next_url: str) -> str:
    return f"/console/login?next={quote(next_url, safe='')}"


def cookie_settings(request: Request) -> dict[str, object]:
    return {
        "key": COOKIE,
        "httponly": True,
        "samesite": "lax",
        "secure": request.url.scheme == "https",
        "max_age": int(SESSION_LIFETIME.total_seconds()),
        "path": "/console",
    }


Staff = Annotated[Actor, Depends(signed_in)]
