"""A console over the API tests' workspace: staff with passwords, and a browser-like
client per person (its own cookie jar) signed in through the real form."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lendflow.web.app import create_app
from lendflow.workspace.context import Workspace
from tests.console.console_helpers import OPENING_DAY, PASSWORD, STAFF, Staff
from tests.web.conftest import prefect_harness, ws  # noqa: F401 - fixtures, shared


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The console runs the same use cases as the API, whose tests cover both databases;
    its pages are tested on SQLite, the embedded default."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with small costs: every test signs several people in, and the recommended
    parameters spend a tenth of a second each on purpose (the identity tests keep them)."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from lendflow.identity import users

    quick = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(users, "_hasher", lambda: quick)


@pytest.fixture
def console_ws(ws: Workspace) -> Workspace:  # noqa: F811
    from lendflow.identity.users import set_password

    admin = ws.actor("admin")
    for user in STAFF:
        set_password(ws, admin, user, PASSWORD)
    ws.clock = lambda: OPENING_DAY
    return ws


@pytest.fixture
def browser(console_ws: Workspace) -> Iterator[Callable[[str | None], Staff]]:
    """browser("ops") -> a client signed in as ops; browser(None) -> signed out."""
    app = create_app(console_ws)
    opened: list[TestClient] = []

    def open_as(user: str | None) -> Staff:
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        person = Staff(client)
        if user is not None:
            answer = person.sign_in(user)
            assert answer.status_code == 303, answer.text
        return person

    yield open_as
    for client in opened:
        client.__exit__(None, None, None)
