"""A server answers its reads on the engine's pooled connections, not a fresh login each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
