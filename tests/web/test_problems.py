"""Every kind of error as RFC 9457 problem details, with the CLI's one-line reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lendflow.workspace.context import Workspace
from tests.web.api_helpers import OPENING_DAY, application

DAY = OPENING_DAY.isoformat()
PROBLEM = "application/problem+json"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    assert "Traceback" not in response.text
    return body


def _applied(ops: Any) -> int:
    response = ops.post("/api/v1/loans", json=application())
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_no_token_or_a_bad_one_is_401_with_a_bearer_challenge(api: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = api.get("/api/v1/loans", headers=headers)
        _problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_revoked_token_or_a_disabled_users_token_is_401(
    api: TestClient, ws: Workspace, as_user: Any
) -> None:
    from lendflow.identity.tokens import list_tokens, revoke_token
    from lendflow.identity.users import disable_user

    admin = ws.actor("admin")
    assert as_user("risk").get("/api/v1/loans").status_code == 200
    disable_user(ws, admin, "risk")
    _problem(as_user("risk").get("/api/v1/loans"), 401)
    auditors = [t for t in list_tokens(ws, admin) if t.user == "auditor"]
    revoke_token(ws, admin, auditors[0].id, datetime(2026, 1, 6, tzinfo=UTC))
    _problem(as_user("auditor").get("/api/v1/loans"), 401)
    assert as_user("ops").get("/api/v1/loans").status_code == 200


def test_a_role_that_may_not_act_is_403_and_changes_nothing(as_user: Any) -> None:
    loan_id = _applied(as_user("ops"))
    refused = as_user("auditor").post(
        f"/api/v1/loans/{loan_id}/review", json={"business_date": DAY}
    )
    body = _problem(refused, 403)
    assert body["detail"] == "user auditor (auditor) may not start reviews"
    assert as_user("ops").get(f"/api/v1/loans/{loan_id}").json()["state"] == "submitted"


def test_a_business_refusal_is_409_with_the_clis_reason(as_user: Any, lendflow: Any) -> None:
    loan_id = _applied(as_user("ops"))
    refused = as_user("ops").post(
        f"/api/v1/loans/{loan_id}/disburse",
        json={"business_date": DAY},
        headers={"Idempotency-Key": "k1"},
    )
    body = _problem(refused, 409)
    assert body["detail"] == f"loan {loan_id} is submitted; disburse needs approved"


def test_an_unknown_loan_is_404(as_user: Any) -> None:
    body = _problem(as_user("ops").get("/api/v1/loans/999999"), 404)
    assert body["detail"] == "loan 999999 does not exist"


def test_a_field_that_fails_validation_is_422_with_its_errors(as_user: Any) -> None:
    bad = as_user("ops").post("/api/v1/loans", json=application(amount=5000.5, term=0))
    body = _problem(bad, 422)
    assert {e["field"] for e in body["errors"]} == {"amount", "term"}
    assert all(e["code"] and e["message"] for e in body["errors"])


def test_a_rule_of_the_use_case_is_422_with_its_one_line(as_user: Any) -> None:
    bad = as_user("ops").post("/api/v1/loans", json=application(id_number="123"))
    body = _problem(bad, 422)
    assert "\n" not in body["detail"]
    assert body["errors"][0]["message"] == body["detail"]


def test_an_unknown_field_is_refused(as_user: Any) -> None:
    body = _problem(as_user("ops").post("/api/v1/loans", json=application(colour="red")), 422)
    assert body["errors"][0]["field"] == "colour"
    assert body["errors"][0]["code"] == "extra_forbidden"


def test_a_malformed_json_body_is_400(as_user: Any) -> None:
    response = as_user("ops").post(
        "/api/v1/loans", content=b'{"product": ', headers={"Content-Type": "application/json"}
    )
    assert _problem(response, 400)["detail"] == "the request body is not valid JSON"


def test_a_body_over_one_megabyte_is_413(as_user: Any) -> None:
    huge = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    response = as_user("ops").post(
        "/api/v1/loans", content=huge, headers={"Content-Type": "application/json"}
    )
    _problem(response, 413)


def test_an_id_out_of_bounds_is_422(as_user: Any) -> None:
    body = _problem(as_user("ops").get(f"/api/v1/loans/{2**31}"), 422)
    assert body["errors"][0]["field"] == "loan_id"


def test_an_unexpected_error_is_500_with_an_id_in_the_log(
    as_user: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from lendflow.loans import views

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "page_loans", broken)
    body = _problem(as_user("ops").get("/api/v1/loans"), 500)
    assert "secret internals" not in str(body)
    logged = [r for r in caplog.records if body["error_id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None


def test_a_stale_if_match_is_412_and_changes_nothing(as_user: Any) -> None:
    ops = as_user("ops")
    loan_id = _applied(ops)
    first = ops.get(f"/api/v1/loans/{loan_id}")
    tag = first.headers["etag"]
    assert (
        ops.post(
            f"/api/v1/loans/{loan_id}/review",
            json={"business_date": DAY},
            headers={"If-Match": tag},
        ).status_code
        == 200
    )
    assert ops.get(f"/api/v1/loans/{loan_id}").headers["etag"] != tag
    stale = ops.post(
        f"/api/v1/loans/{loan_id}/withdraw",
        json={"business_date": DAY},
        headers={"If-Match": tag},
    )
    _problem(stale, 412)
    assert ops.get(f"/api/v1/loans/{loan_id}").json()["state"] == "under_review"


def test_health_needs_no_token_and_says_the_database_answers(api: TestClient) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}


def test_health_is_503_when_the_database_does_not_answer(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = api.app.state.workspace  # type: ignore[attr-defined]

    def down() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(ws, "reader", down)
    response = api.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_the_openapi_document_describes_the_loan_resources(api: TestClient) -> None:
    document = api.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert {"/api/v1/loans", "/api/v1/loans/{loan_id}/repayments"} <= document["paths"].keys()
    repay = document["paths"]["/api/v1/loans/{loan_id}/repayments"]["post"]["responses"]
    assert repay["422"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert api.get("/api/v1/docs").status_code == 200  # the docs need no token
