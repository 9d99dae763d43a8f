"""Money moves from many clients at once against a running server: each key lands once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.web.api_helpers import OPENING_DAY, application, bearer

DAY = OPENING_DAY.isoformat()
CLIENTS = 16


def _post(base: str, url: str, key: str, amount: str) -> httpx.Response:
    headers = {**bearer("ops"), "Idempotency-Key": key}
    with httpx.Client(base_url=base, timeout=60) as http:
        return http.post(url, json={"amount": amount, "business_date": DAY}, headers=headers)


def _active_loan(http: httpx.Client) -> str:
    loan = http.post("/api/v1/loans", json=application(), headers=bearer("ops")).headers["location"]
    http.post(f"{loan}/review", json={"business_date": DAY}, headers=bearer("ops"))
    http.post(f"{loan}/approve", json={"business_date": DAY}, headers=bearer("risk"))
    paid = http.post(
        f"{loan}/disburse",
        json={"business_date": DAY},
        headers={**bearer("ops"), "Idempotency-Key": "payout"},
    )
    assert paid.json()["state"] == "active", paid.text
    return str(loan)


def test_one_key_from_many_clients_lands_once_and_all_get_the_same_body(server: str) -> None:
    with httpx.Client(base_url=server, timeout=60) as http:
        loan = _active_loan(http)
        url = f"{loan}/repayments"
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(lambda _: _post(server, url, "same", "300.00"), range(CLIENTS)))
            distinct = list(
                pool.map(lambda n: _post(server, url, f"own-{n}", "10.00"), range(CLIENTS))
            )
        assert {a.status_code for a in answers + distinct} == {201}, [a.text for a in answers]
        assert len({a.text for a in answers}) == 1
        assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == CLIENTS - 1
        trail: list[dict[str, Any]] = http.get(
            f"{loan}/events", headers=bearer("ops"), params={"limit": 200}
        ).json()["items"]
        assert len([e for e in trail if e["name"] == "RepaymentPosted"]) == 1 + CLIENTS
        verified = http.post("/api/v1/audit/verify", headers=bearer("auditor")).json()
        assert verified["ok"] is True, verified["problems"]
