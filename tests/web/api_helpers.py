"""Shared by the API tests: tokens per user, a valid application body, the opening day."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from lendflow.domain.identity import sample_national_id

OPENING_DAY = date(2026, 1, 5)
USERS = ("ops", "risk", "auditor", "admin", "finance")
TOKENS: dict[str, str] = {}  # user -> the API token the `ws` fixture made for them
_serials = count(500)


def bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[user]}"}


def application(**changes: Any) -> dict[str, Any]:
    """A valid application body; each call is a new person."""
    body = {
        "product": "cash-easy",
        "name": "张三",
        "id_number": sample_national_id(date(1990, 5, 17), next(_serials)),
        "phone": "13812345678",
        "monthly_income": "8000.00",
        "amount": "10000.00",
        "term": 6,
        "consents": ["all"],
        "business_date": OPENING_DAY.isoformat(),
    }
    return {**body, **changes}


def active_loan(as_user: Any) -> int:
    """A loan paid out on the opening day over HTTP (its contract kept at disbursement)."""
    day = OPENING_DAY.isoformat()
    ops, risk = as_user("ops"), as_user("risk")
    loan_id = ops.post("/api/v1/loans", json=application()).json()["id"]
    ops.post(f"/api/v1/loans/{loan_id}/review", json={"business_date": day})
    risk.post(f"/api/v1/loans/{loan_id}/approve", json={"business_date": day})
    paid = ops.post(
        f"/api/v1/loans/{loan_id}/disburse",
        json={"business_date": day},
        headers={"Idempotency-Key": f"payout-{loan_id}"},
    )
    assert paid.status_code == 200, paid.text
    return int(loan_id)
