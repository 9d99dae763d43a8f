"""Schemathesis against the OpenAPI document: every operation, in process, with a real token.

Each operation gets a few generated requests (valid and not, from each role's token);
no answer may be a 5xx, and every answer must match what the document says of its
status, media type, headers and body. `make api-fuzz` runs many more examples
(LENDFLOW_API_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lendflow.config.settings import Settings
from lendflow.web import borrowers, loans
from lendflow.web import ledger as ledger_routes
from lendflow.web import operations as operation_routes
from lendflow.web import products as product_routes
from lendflow.web.app import create_app
from lendflow.workspace.context import Workspace
from tests.web.api_helpers import OPENING_DAY, USERS, application, bearer

EXAMPLES = int(os.environ.get("LENDFLOW_API_FUZZ_EXAMPLES", "6"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.ignored_auth,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def web_schema(ws: Workspace, settings: Settings, prefect_harness: None) -> Iterator[Any]:
    """The document of an app over a small book; close of business and stage runs it
    starts are Prefect flow runs, on the test harness's server."""
    if not settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("the schema is the same on every database; SQLite is enough")
    app = create_app(ws)
    app.state.workspace = ws  # the lifespan is not run by schemathesis' ASGI transport
    _a_small_book(app)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    # each case carries a real token of its own; `ignored_auth` tries the others
    schema.config.generation.update(with_security_parameters=False)
    yield schema
    app.state.cob_runs.stop()  # the runs it started end before the workspace closes


def _a_small_book(app: Any) -> None:
    """Loan 1 paid out (its contract is document 1), loan 2 submitted, ticket 1 open: the
    small ids the generator tries first find something, so answers other than 404 are
    checked too."""
    client = TestClient(app)
    ops, risk = bearer("ops"), bearer("risk")
    day = {"business_date": OPENING_DAY.isoformat()}
    for _ in range(2):
        assert client.post("/api/v1/loans", json=application(), headers=ops).status_code == 201
    client.post("/api/v1/loans/1/review", json=day, headers=ops)
    client.post("/api/v1/loans/1/approve", json=day, headers=risk)
    paid = client.post(
        "/api/v1/loans/1/disburse", json=day, headers={**ops, "Idempotency-Key": "payout-1"}
    )
    assert paid.status_code == 200, paid.text
    ticket = {"kind": "complaint", "subject": "charged twice", "loan_id": 1, **day}
    assert client.post("/api/v1/tickets", json=ticket, headers=ops).status_code == 201


def _cases(operation: Any) -> st.SearchStrategy[Any]:
    """Valid requests, invalid ones, and valid ones aimed at the seeded book's ids."""
    names = [p.name for p in operation.path_parameters]
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if names:
        seeded = {name: 1 for name in names}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=seeded))
    return st.one_of(strategies)


def test_every_operation_answers_as_documented(web_schema: Any) -> None:
    """Each operation in turn; the failures of all are reported together."""
    failures: list[str] = []
    documented = [found.ok() for found in web_schema.get_all_operations()]
    routes = {"GET /healthz"} | {
        f"{method} /api/v1{route.path}"
        for router in (
            loans.router,
            borrowers.router,
            operation_routes.router,
            product_routes.router,
            ledger_routes.router,
        )
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert {op.label for op in documented} == routes, "every route is in the document"
    for operation in documented:

        @given(case=_cases(operation), user=st.sampled_from(USERS))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def answers_as_documented(case: Any, user: str) -> None:
            case.call_and_validate(headers=bearer(user), checks=CHECKS)

        try:
            answers_as_documented()
        except Exception as failed:
            failures.append(f"{operation.label}: {failed}")
    assert not failures, "\n\n".join(failures)


def test_the_document_says_every_api_operation_needs_a_bearer_token(api: TestClient) -> None:
    document = api.get("/api/v1/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    unguarded = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if path.startswith("/api/v1/") and operation.get("security") != [{"HTTPBearer": []}]
    ]
    assert unguarded == []


def test_an_unknown_query_parameter_is_refused_like_an_unknown_field(as_user: Any) -> None:
    ops = as_user("ops")
    mistyped = ops.get("/api/v1/loans", params={"stat": "active"})
    assert mistyped.status_code == 422
    assert mistyped.json()["detail"] == "unknown query parameter 'stat'"
    assert mistyped.json()["errors"][0]["field"] == "stat"
    assert ops.get("/api/v1/loans", params={"state": "active", "limit": 5}).status_code == 200
