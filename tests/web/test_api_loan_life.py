"""A loan's whole life over HTTP, as an origination app and a payment channel drive it."""

from __future__ import annotations

from typing import Any

from tests.web.api_helpers import OPENING_DAY, application

DAY = OPENING_DAY.isoformat()


def test_a_loan_lives_its_whole_life_over_http_and_the_books_verify(as_user: Any) -> None:
    ops, risk, auditor = as_user("ops"), as_user("risk"), as_user("auditor")

    applied = ops.post("/api/v1/loans", json=application())
    assert applied.status_code == 201, applied.text
    loan_id = applied.json()["id"]
    assert applied.headers["location"] == f"/api/v1/loans/{loan_id}"
    assert applied.json()["state"] == "submitted"

    reviewed = ops.post(f"/api/v1/loans/{loan_id}/review", json={"business_date": DAY})
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["state"] == "under_review"
    assert [q["id"] for q in risk.get("/api/v1/queue").json()["items"]] == [loan_id]

    approved = risk.post(
        f"/api/v1/loans/{loan_id}/approve",
        json={"business_date": DAY, "amount": "8000.00", "note": "income checked"},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    assert approved.json()["approved"] == "8000.00"

    paid_out = ops.post(
        f"/api/v1/loans/{loan_id}/disburse",
        json={"business_date": DAY},
        headers={"Idempotency-Key": f"payout-{loan_id}"},
    )
    assert paid_out.status_code == 200, paid_out.text
    assert paid_out.json()["state"] == "active"
    assert paid_out.json()["principal"] == "8000.00"

    schedule = ops.get(f"/api/v1/loans/{loan_id}/schedule").json()
    assert len(schedule["instalments"]) == 6
    first_due = schedule["instalments"][0]["total"]

    repaid = ops.post(
        f"/api/v1/loans/{loan_id}/repayments",
        json={"amount": first_due, "business_date": DAY},
        headers={"Idempotency-Key": "pay-1"},
    )
    assert repaid.status_code == 201, repaid.text

    quote = ops.get(f"/api/v1/loans/{loan_id}/quote", params={"on": DAY}).json()
    settled = ops.post(
        f"/api/v1/loans/{loan_id}/repayments",
        json={"amount": quote["total"], "business_date": DAY},
        headers={"Idempotency-Key": "pay-2"},
    )
    assert settled.status_code == 201, settled.text
    assert settled.json()["state"] == "closed"

    events = ops.get(f"/api/v1/loans/{loan_id}/events").json()["items"]
    assert [e["to"] for e in events][-1] == "closed"

    verified = auditor.post("/api/v1/audit/verify")
    assert verified.status_code == 200
    assert verified.json()["ok"] is True, verified.json()["problems"]
