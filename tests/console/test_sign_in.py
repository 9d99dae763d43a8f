"""Signing in to the console: sessions, lockout, CSRF, security headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lendflow.identity.sessions import revoke_sessions
from lendflow.workspace.context import Workspace
from tests.console.console_helpers import Staff


def test_signing_in_opens_a_session_with_a_safe_cookie(browser: Callable[..., Staff]) -> None:
    person = browser(None)
    person.get("/console/login")
    answer = person.post("/console/login", {"username": "ops", "password": "correct horse battery"})
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    cookie = answer.headers["set-cookie"]
    assert "lendflow_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = person.follow(answer)
    assert page.status_code == 200
    assert 'id="signed-in-user">ops<' in page.text
    assert "运营 operator" in page.text


def test_a_page_without_a_session_sends_you_to_sign_in_and_back(
    browser: Callable[..., Staff],
) -> None:
    person = browser(None)
    answer = person.client.get("/console/loans?state=active", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=%2Fconsole%2Floans%3Fstate%3Dactive"
    person.get(answer.headers["location"])
    signed = person.post(
        "/console/login",
        {
            "username": "ops",
            "password": "correct horse battery",
            "next": "/console/loans?state=active",
        },
    )
    assert signed.headers["location"] == "/console/loans?state=active"


def test_a_wrong_password_five_times_locks_the_account(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    person = browser(None)
    for _ in range(4):
        answer = person.sign_in("risk", "wrong password here")
        assert answer.status_code == 401
        assert "wrong user name or password" in answer.text
    fifth = person.sign_in("risk", "wrong password here")
    assert fifth.status_code == 401 and "locked until" in fifth.text
    right = person.sign_in("risk")  # the right password is refused while locked
    assert right.status_code == 401 and "locked until" in right.text
    later = datetime.now(UTC) + timedelta(minutes=16)
    from lendflow.identity.sessions import sign_in

    assert sign_in(console_ws, "risk", "correct horse battery", later).user == "risk"


def test_a_forged_post_without_the_csrf_token_is_refused(browser: Callable[..., Staff]) -> None:
    person = browser("ops")
    person.get("/console")
    forged = person.client.post(
        "/console/logout", data={"next": "/console"}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert person.get("/console").status_code == 200  # still signed in


def test_signing_out_and_revoking_end_the_session(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    person = browser("ops")
    assert person.get("/console").status_code == 200
    person.post("/console/logout")
    assert person.client.get("/console", follow_redirects=False).status_code == 303

    other = browser("ops")
    assert other.get("/console").status_code == 200
    ended = revoke_sessions(console_ws, console_ws.actor("admin"), "ops", datetime.now(UTC))
    assert ended == 1
    assert other.client.get("/console", follow_redirects=False).status_code == 303


def test_console_pages_carry_security_headers(browser: Callable[..., Staff]) -> None:
    page = browser("ops").get("/console")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"


def test_the_language_switch_changes_the_words(browser: Callable[..., Staff]) -> None:
    person = browser("ops")
    assert "工作台" in person.get("/console").text
    person.follow(person.post("/console/language", {"lang": "en", "next": "/console"}))
    assert "Work queue" in person.get("/console").text
