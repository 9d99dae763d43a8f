"""A server answers its reads on the engine's pooled connections, not a fresh login each."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from lendflow.workspace.context import Workspace
from tests.web.api_helpers import application


def test_loan_reads_borrow_pooled_connections_and_answer_the_same(
    ws: Workspace, as_user: Callable[..., Any]
) -> None:
    loan = as_user("ops").post("/api/v1/loans", json=application()).json()
    borrowed = []
    event.listen(ws.engine, "checkout", lambda *_: borrowed.append(1))
    shown = [as_user("ops").get(f"/api/v1/loans/{loan['id']}") for _ in range(5)]

    assert {r.status_code for r in shown} == {200}
    assert {r.json()["id"] for r in shown} == {loan["id"]}
    assert {r.headers["ETag"] for r in shown} == {f'"v{loan["version"]}"'}
    # each GET checks its token (one transaction) and reads the loan: both on the pool
    assert len(borrowed) == 2 * len(shown)
    assert ws.engine.pool.checkedout() == 0  # every borrowed connection went back


def test_reads_answer_while_another_writer_holds_the_database(
    ws: Workspace, as_user: Callable[..., Any]
) -> None:
    """A long write (a close of business) must not stall reads: checking a token is a
    plain read, and recording its use waits until after the answer."""
    url = ws.settings.resolved_database_url
    if not url.startswith("sqlite"):
        pytest.skip("on PostgreSQL readers never wait for writers")
    loan = as_user("ops").post("/api/v1/loans", json=application()).json()
    writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    answers: list[int] = []
    try:
        reading = threading.Thread(
            target=lambda: answers.append(
                as_user("ops").get(f"/api/v1/loans/{loan['id']}").status_code
            )
        )
        reading.start()
        reading.join(timeout=5)
        assert answers == [200]
    finally:
        writer.rollback()
        writer.close()
