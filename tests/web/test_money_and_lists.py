"""Money moves with idempotency keys, pages of loans, and personal data masked by role."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lendflow.config.settings import Settings
from tests.web.api_helpers import OPENING_DAY, active_loan, application

DAY = OPENING_DAY.isoformat()


def test_a_money_move_without_an_idempotency_key_is_400(as_user: Any) -> None:
    loan_id = active_loan(as_user)
    response = as_user("ops").post(
        f"/api/v1/loans/{loan_id}/repayments", json={"amount": "100.00", "business_date": DAY}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_replayed_repayment_answers_the_first_body_and_moves_no_money(as_user: Any) -> None:
    ops = as_user("ops")
    loan_id = active_loan(as_user)
    asked = {"amount": "500.00", "business_date": DAY}
    first = ops.post(
        f"/api/v1/loans/{loan_id}/repayments", json=asked, headers={"Idempotency-Key": "r-1"}
    )
    again = ops.post(
        f"/api/v1/loans/{loan_id}/repayments", json=asked, headers={"Idempotency-Key": "r-1"}
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    payments = [
        e
        for e in ops.get(f"/api/v1/loans/{loan_id}/events").json()["items"]
        if e["name"] == "RepaymentPosted"
    ]
    assert len(payments) == 1


def test_the_same_key_with_another_body_is_422(as_user: Any) -> None:
    ops = as_user("ops")
    loan_id = active_loan(as_user)
    url = f"/api/v1/loans/{loan_id}/repayments"
    ops.post(url, json={"amount": "500.00", "business_date": DAY}, headers={"Idempotency-Key": "k"})
    other = ops.post(
        url, json={"amount": "600.00", "business_date": DAY}, headers={"Idempotency-Key": "k"}
    )
    assert other.status_code == 422
    assert other.json()["detail"] == "idempotency key 'k' was already used for a different request"
    trail = ops.get(f"/api/v1/loans/{loan_id}/events").json()["items"]
    assert len([e for e in trail if e["name"] == "RepaymentPosted"]) == 1


def test_a_replayed_payout_answers_the_first_body(as_user: Any) -> None:
    loan_id = active_loan(as_user)
    again = as_user("ops").post(
        f"/api/v1/loans/{loan_id}/disburse",
        json={"business_date": DAY},
        headers={"Idempotency-Key": f"payout-{loan_id}"},
    )
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["state"] == "active"


def test_loans_come_a_page_at_a_time_by_id_with_the_total(as_user: Any) -> None:
    ops = as_user("ops")
    ids = [ops.post("/api/v1/loans", json=application()).json()["id"] for _ in range(5)]
    ops.post(f"/api/v1/loans/{ids[1]}/review", json={"business_date": DAY})
    first = ops.get("/api/v1/loans", params={"limit": 2}).json()
    second = ops.get("/api/v1/loans", params={"limit": 2, "offset": 2}).json()
    assert first["total"] == second["total"] == 5
    assert [r["id"] for r in first["items"] + second["items"]] == ids[:4]
    submitted = ops.get("/api/v1/loans", params={"state": "submitted"}).json()
    assert submitted["total"] == 4
    assert ids[1] not in [r["id"] for r in submitted["items"]]
    assert ops.get("/api/v1/loans", params={"dpd_min": 1}).json() == {"total": 0, "items": []}
    assert ops.get("/api/v1/loans", params={"limit": 201}).status_code == 422


def test_personal_data_is_masked_by_role_exactly_as_the_cli_shows_it(
    as_user: Any, lendflow: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    loan_id = as_user("ops").post("/api/v1/loans", json=application(name="李四")).json()["id"]
    monkeypatch.setenv("LENDFLOW_DATABASE_URL", settings.resolved_database_url)
    for user in ("ops", "risk"):
        served = as_user(user).get(f"/api/v1/loans/{loan_id}", params={"on": DAY}).json()
        printed = lendflow(f"loan show {loan_id} --json --as {user} --on {DAY}").json()
        assert served == printed
    assert as_user("risk").get(f"/api/v1/loans/{loan_id}").json()["customer"]["name"] == "李四"
    assert "李四" not in str(as_user("ops").get(f"/api/v1/loans/{loan_id}").json())
    assert "李四" not in str(as_user("ops").get("/api/v1/loans").json())


def test_include_adds_the_schedule_and_the_events(as_user: Any) -> None:
    loan_id = active_loan(as_user)
    shown = as_user("ops").get(
        f"/api/v1/loans/{loan_id}", params={"include": "schedule,events,decision"}
    )
    body = shown.json()
    assert len(body["schedule"]["instalments"]) == 6
    assert body["events"][-1]["to"] == "active"
    assert "credit_decisions" in body
    assert (
        as_user("ops").get(f"/api/v1/loans/{loan_id}", params={"include": "x"}).status_code == 422
    )


def test_the_calculator_answers_as_calc_schedule_json(as_user: Any, lendflow: Any) -> None:
    served = as_user("ops").post(
        "/api/v1/calc/schedule",
        json={
            "principal": "10000.00",
            "annual_rate": "18",
            "repayments": 12,
            "disbursed": "2026-01-05",
        },
    )
    printed = lendflow(
        "calc schedule --principal 10000 --annual-rate 18 --repayments 12"
        " --disbursed 2026-01-05 --json"
    ).json()
    assert served.status_code == 200, served.text
    assert served.json() == printed


def test_the_calculator_moves_a_holiday_due_date_as_calc_schedule_does(
    as_user: Any, lendflow: Any
) -> None:
    """Due Thursday 1 October 2026, National Day: moved to Thursday 8 October."""
    served = as_user("ops").post(
        "/api/v1/calc/schedule",
        json={
            "principal": "10000.00",
            "annual_rate": "15.60",
            "repayments": 3,
            "disbursed": "2026-07-01",
            "non_working_due": "move",
        },
    )
    printed = lendflow(
        "calc schedule --principal 10000 --annual-rate 15.60 --repayments 3"
        " --disbursed 2026-07-01 --non-working-due move --json"
    ).json()
    assert served.status_code == 200, served.text
    assert served.json() == printed
    assert served.json()["instalments"][2]["due_date"] == "2026-10-08"


def test_a_key_whose_first_request_is_still_in_flight_is_409(
    api: Any, as_user: Any, ws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lendflow.web.loans import InFlight

    ops, risk = as_user("ops"), as_user("risk")
    loan_id = ops.post("/api/v1/loans", json=application()).json()["id"]
    ops.post(f"/api/v1/loans/{loan_id}/review", json={"business_date": DAY})
    risk.post(f"/api/v1/loans/{loan_id}/approve", json={"business_date": DAY})
    api.app.state.in_flight = InFlight(wait=0.2)
    entered, release = threading.Event(), threading.Event()
    pay_out = ws.gateway.pay_out

    def slow_pay_out(*args: Any) -> Any:
        entered.set()
        release.wait(10)
        return pay_out(*args)

    monkeypatch.setattr(ws.gateway, "pay_out", slow_pay_out)
    url, key = f"/api/v1/loans/{loan_id}/disburse", {"Idempotency-Key": "slow"}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(ops.post, url, json={"business_date": DAY}, headers=key)
        assert entered.wait(10)
        second = ops.post(url, json={"business_date": DAY}, headers=key)
        release.set()
        assert first.result().status_code == 200
    assert second.status_code == 409
    assert second.json()["detail"] == (
        "idempotency key 'slow' is still being processed; retry when it is done"
    )
    replay = ops.post(url, json={"business_date": DAY}, headers=key)
    assert replay.headers["idempotent-replayed"] == "true"


def test_the_review_queue_comes_a_page_at_a_time_oldest_first(as_user: Any) -> None:
    ops = as_user("ops")
    ids = [ops.post("/api/v1/loans", json=application()).json()["id"] for _ in range(3)]
    for loan_id in ids:
        ops.post(f"/api/v1/loans/{loan_id}/review", json={"business_date": DAY})
    risk = as_user("risk")
    pages = [risk.get("/api/v1/queue", params={"limit": 2, "offset": n}).json() for n in (0, 2)]
    assert [[q["id"] for q in page["items"]] for page in pages] == [ids[:2], ids[2:]]
    assert [page["total"] for page in pages] == [3, 3]


def test_a_malformed_idempotency_key_is_400_naming_the_header(as_user: Any) -> None:
    loan_id = active_loan(as_user)
    response = as_user("ops").post(
        f"/api/v1/loans/{loan_id}/repayments",
        json={"amount": "100.00", "business_date": DAY},
        headers={"Idempotency-Key": "x" * 101},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].lower() == "idempotency-key"
