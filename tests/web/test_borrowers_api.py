"""Consents and collection contacts over HTTP: listed, withdrawn and logged through the same
use cases as the CLI, refused with the rule named and nothing recorded."""

from __future__ import annotations

from typing import Any

from tests.web.api_helpers import active_loan

PROBLEM = "application/problem+json"


def test_consents_are_listed_and_a_withdrawal_is_recorded_once(ws: Any, as_user: Any) -> None:
    loan_id = active_loan(as_user)
    ops, auditor = as_user("ops"), as_user("auditor")
    listed = auditor.get(f"/api/v1/loans/{loan_id}/consents").json()
    assert listed["total"] == len(listed["items"]) >= 3
    assert all(item["withdrawn_on"] is None for item in listed["items"])
    url = f"/api/v1/loans/{loan_id}/consents/credit_check/withdrawal"
    withdrawn = ops.post(url, json={"business_date": "2026-01-06"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["name"], withdrawn.json()["withdrawn_on"]) == (
        "credit_check",
        "2026-01-06",
    )
    again = ops.post(url, json={"business_date": "2026-01-07"})
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert again.json()["detail"] == (
        f"the credit_check consent of loan {loan_id} was withdrawn on 2026-01-06"
    )
    unknown = ops.post(f"/api/v1/loans/{loan_id}/consents/marketing/withdrawal", json={})
    assert unknown.status_code in (400, 422) and "unknown consent 'marketing'" in unknown.text
    assert auditor.post(url, json={}).status_code == 403
    trail = auditor.get(f"/api/v1/loans/{loan_id}/events?limit=200").json()["items"]
    assert [e["name"] for e in trail].count("ConsentWithdrawn") == 1


def test_a_collection_contact_outside_the_hours_is_refused_with_its_rule(
    ws: Any, as_user: Any
) -> None:
    loan_id = active_loan(as_user)
    ops = as_user("ops")
    url = f"/api/v1/loans/{loan_id}/collection-contacts"
    late = ops.post(url, json={"channel": "call", "outcome": "no_answer", "at": "2026-01-05T23:30"})
    assert late.status_code == 409 and late.headers["content-type"] == PROBLEM
    assert "COLLECTION_HOURS" in late.json()["detail"]
    relative = ops.post(
        url,
        json={
            "channel": "call",
            "outcome": "no_answer",
            "at": "2026-01-05T10:00",
            "recipient": "relative",
        },
    )
    assert relative.status_code == 409 and "THIRD_PARTY" in relative.json()["detail"]
    zoned = ops.post(
        url, json={"channel": "sms", "outcome": "no_answer", "at": "2026-01-05T10:00+08:00"}
    )
    assert zoned.status_code in (400, 422)
    assert ops.get(url).json() == {"total": 0, "items": []}  # nothing recorded
    logged = ops.post(
        url, json={"channel": "call", "outcome": "promised_to_pay", "at": "2026-01-05T10:30"}
    )
    assert logged.status_code == 201, logged.text
    assert (logged.json()["channel"], logged.json()["contacted_at"]) == (
        "call",
        "2026-01-05T10:30",
    )
    assert ops.get(url).json()["total"] == 1
