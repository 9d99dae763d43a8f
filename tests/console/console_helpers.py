"""Shared by the console tests: staff at a browser, signed in through the real form."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
from fastapi.testclient import TestClient

OPENING_DAY = date(2026, 1, 5)
PASSWORD = "correct horse battery"
STAFF = ("admin", "ops", "risk", "auditor", "pm", "committee1", "committee2")
CSRF = re.compile(r'name="csrftoken" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Staff:
    """One person at a browser: their own cookies and the CSRF token of the last page."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    def get(self, url: str, **kw: object) -> httpx.Response:
        page = self.client.get(url, **kw)  # type: ignore[arg-type]
        if CSRF.search(page.text):
            self.token = csrf_of(page)
        return page

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: object) -> httpx.Response:
        form = {"csrftoken": self.token, **(data or {})}
        return self.client.post(url, data=form, follow_redirects=False, **kw)  # type: ignore[arg-type]

    def follow(self, answer: httpx.Response) -> httpx.Response:
        assert answer.status_code == 303, answer.text
        return self.get(answer.headers["location"])

    def sign_in(self, user: str, password: str = PASSWORD) -> httpx.Response:
        self.get("/console/login")
        return self.post("/console/login", {"username": user, "password": password})
