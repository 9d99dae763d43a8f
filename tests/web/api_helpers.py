"""Shared by the API tests: tokens per user, a valid application body, the opening day."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from lendflow.domain.identity import sample_national_id

OPENING_DAY = date(2026, 1, 5)
USERS = ("ops", "risk", "auditor", "admin")
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
        "business_date": OPENING_DAY.isoformat(),
    }
    return {**body, **changes}
