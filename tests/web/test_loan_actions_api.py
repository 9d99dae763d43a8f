"""Loan actions over HTTP: waivers, acceleration and restructures asked by one person and
approved by another, refunds keyed by `Idempotency-Key`; refusals as problem details.

The loan: cash-easy, 10,000.00 over 6 months paid out 2026-01-05 (`active_loan`), closed
through 2026-02-20: instalment 1 (due 02-05) unpaid, its 10.00 fee owed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lendflow.close_of_business.sweep import close_range
from lendflow.config.cob import load_cob_config
from tests.web.api_helpers import active_loan

PROBLEM = "application/problem+json"
OPEN = {"business_date": "2026-02-21"}


def overdue_loan(ws: Any, as_user: Any) -> int:
    loan_id = active_loan(as_user)
    close_range(ws, 1, 10_000, date(2026, 1, 5), date(2026, 2, 20), "cob", load_cob_config())
    return loan_id


def test_a_fee_waiver_asked_by_one_and_approved_by_another(ws: Any, as_user: Any) -> None:
    loan_id = overdue_loan(ws, as_user)
    ops, risk, admin = as_user("ops"), as_user("risk"), as_user("admin")
    asked = ops.post(
        f"/api/v1/loans/{loan_id}/waivers",
        json={"component": "fees", "amount": "10.00", "reason": "complaint upheld", **OPEN},
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    assert asked.headers["Location"] == f"/api/v1/loan-requests/{request_id}"
    assert (asked.json()["status"], asked.json()["amount"]) == ("pending", "10.00")
    operator = ops.post(f"/api/v1/loan-requests/{request_id}/approve", json=OPEN)
    assert operator.status_code == 403
    approved = risk.post(f"/api/v1/loan-requests/{request_id}/approve", json=OPEN)
    assert approved.status_code == 200, approved.text
    assert approved.json()["loan"]["outstanding"]["fees"] == "0.00"
    again = admin.post(f"/api/v1/loan-requests/{request_id}/approve", json=OPEN)
    assert again.status_code == 409 and "already approved" in again.json()["detail"]
    listed = ops.get(f"/api/v1/loans/{loan_id}/requests").json()["items"]
    assert [(r["kind"], r["status"]) for r in listed] == [("waive", "approved")]
    assert admin.post("/api/v1/audit/verify").json()["problems"] == []


def test_waiving_more_than_is_owed_or_approving_ones_own_is_refused(ws: Any, as_user: Any) -> None:
    loan_id = overdue_loan(ws, as_user)
    admin = as_user("admin")
    before = admin.get(f"/api/v1/loans/{loan_id}?on=2026-02-21").json()
    too_much = admin.post(
        f"/api/v1/loans/{loan_id}/waivers",
        json={"component": "fees", "amount": "10.01", "reason": "goodwill", **OPEN},
    )
    assert too_much.status_code == 409
    assert too_much.headers["content-type"] == PROBLEM
    assert too_much.json()["detail"].endswith("cannot waive 10.01 of fees; only 10.00 is owed")
    unknown = admin.post(
        f"/api/v1/loans/{loan_id}/waivers",
        json={"component": "interest", "amount": "1.00", "reason": "x", **OPEN},
    )
    assert unknown.status_code == 422
    asked = admin.post(
        f"/api/v1/loans/{loan_id}/waivers",
        json={"component": "fees", "amount": "5.00", "reason": "goodwill", **OPEN},
    )
    own = admin.post(f"/api/v1/loan-requests/{asked.json()['id']}/approve", json=OPEN)
    assert own.status_code == 409 and own.json()["detail"].endswith("(four eyes)")
    assert admin.get(f"/api/v1/loans/{loan_id}?on=2026-02-21").json() == before


def test_a_request_declined_over_http_is_never_approved(ws: Any, as_user: Any) -> None:
    loan_id = overdue_loan(ws, as_user)
    ops, risk, admin = as_user("ops"), as_user("risk"), as_user("admin")
    asked = ops.post(
        f"/api/v1/loans/{loan_id}/waivers",
        json={"component": "fees", "amount": "10.00", "reason": "complaint", **OPEN},
    )
    request_id = asked.json()["id"]
    before = admin.get(f"/api/v1/loans/{loan_id}?on=2026-02-21").json()
    url = f"/api/v1/loan-requests/{request_id}/decline"
    operator = ops.post(url, json={"reason": "no", **OPEN})
    assert operator.status_code == 403
    no_reason = risk.post(url, json=OPEN)
    assert no_reason.status_code == 422 and no_reason.headers["content-type"] == PROBLEM
    unknown = risk.post("/api/v1/loan-requests/999/decline", json={"reason": "no", **OPEN})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "loan request 999 does not exist"
    declined = risk.post(url, json={"reason": "complaint not upheld", **OPEN})
    assert declined.status_code == 200, declined.text
    assert (declined.json()["status"], declined.json()["declined_because"]) == (
        "declined",
        "complaint not upheld",
    )
    again = admin.post(url, json={"reason": "twice", **OPEN})
    assert again.status_code == 409 and again.json()["detail"].endswith("is already declined")
    approved = admin.post(f"/api/v1/loan-requests/{request_id}/approve", json=OPEN)
    assert approved.status_code == 409
    assert approved.json()["detail"] == f"loan request {request_id} is already declined"
    assert admin.get(f"/api/v1/loans/{loan_id}?on=2026-02-21").json() == before
    listed = ops.get(f"/api/v1/loans/{loan_id}/requests").json()["items"]
    assert [(r["status"], r["decided_by"]) for r in listed] == [("declined", "risk")]
    assert admin.post("/api/v1/audit/verify").json()["problems"] == []


def test_acceleration_too_early_is_refused_with_the_rule(ws: Any, as_user: Any) -> None:
    loan_id = overdue_loan(ws, as_user)
    early = as_user("ops").post(f"/api/v1/loans/{loan_id}/acceleration", json=OPEN)
    assert early.status_code == 409
    assert early.json()["detail"].startswith("refused by rule ACCELERATION_DAYS:")


def test_a_restructure_over_http(ws: Any, as_user: Any) -> None:
    loan_id = overdue_loan(ws, as_user)
    ops, risk = as_user("ops"), as_user("risk")
    asked = ops.post(
        f"/api/v1/loans/{loan_id}/restructure", json={"term": 9, "annual_rate": "12.60", **OPEN}
    )
    assert asked.status_code == 201, asked.text
    assert (asked.json()["term"], asked.json()["annual_rate"]) == (9, "12.60")
    done = risk.post(f"/api/v1/loan-requests/{asked.json()['id']}/approve", json=OPEN)
    assert done.status_code == 200, done.text
    loan = done.json()["loan"]
    assert (loan["state"], loan["restructure_count"], loan["dpd"]) == ("active", 1, 0)
    schedule = ops.get(f"/api/v1/loans/{loan_id}/schedule").json()["instalments"]
    assert len(schedule) == 6 + 9
    assert as_user("admin").post("/api/v1/audit/verify").json()["problems"] == []


def test_a_refund_is_keyed_and_never_more_than_the_credit(ws: Any, as_user: Any) -> None:
    loan_id = active_loan(as_user)
    ops = as_user("ops")
    quote = ops.get(f"/api/v1/loans/{loan_id}/quote?on=2026-01-06").json()
    total = int(quote["total"].replace(".", "")) + 5_000
    paid = ops.post(
        f"/api/v1/loans/{loan_id}/repayments",
        json={"amount": f"{total // 100}.{total % 100:02d}", "business_date": "2026-01-06"},
        headers={"Idempotency-Key": "payoff"},
    )
    assert paid.status_code == 201 and paid.json()["credit_balance"] == "50.00", paid.text
    body = {"amount": "30.00", "business_date": "2026-01-06"}
    keyless = ops.post(f"/api/v1/loans/{loan_id}/refunds", json=body)
    assert keyless.status_code == 400 and keyless.headers["content-type"] == PROBLEM
    url, key = f"/api/v1/loans/{loan_id}/refunds", {"Idempotency-Key": "REFUND-1"}
    first = ops.post(url, json=body, headers=key)
    assert first.status_code == 201, first.text
    assert (first.json()["credit_balance"], first.json()["refund"]["amount"]) == ("20.00", "30.00")
    replay = ops.post(url, json=body, headers=key)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert ws.gateway.payouts()[f"RF-{loan_id}-REFUND-1"] == 3_000
    other = ops.post(url, json={**body, "amount": "1.00"}, headers=key)
    assert other.status_code == 422
    over = ops.post(url, json=body, headers={"Idempotency-Key": "REFUND-2"})
    assert over.status_code == 409
    assert over.json()["detail"].endswith("cannot refund 30.00; its credit balance is 20.00")
    spaced = ops.post(url, json=body, headers={"Idempotency-Key": "has space"})
    assert spaced.status_code == 400
    assert as_user("admin").post("/api/v1/audit/verify").json()["problems"] == []
