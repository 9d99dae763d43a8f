"""Partial prepayments over HTTP: `POST /loans/{id}/prepayments` (keyed by
`Idempotency-Key`) and the kept schedules, `GET /loans/{id}/schedule-versions`.

The loan: cash-easy's terms under a product with `prepayment: reduce_instalment`,
10,000.00 over 6 months paid out 2026-01-05, instalment 1 (1,753.32) paid on its due date
2026-02-05 and 4,000.00 prepaid that day: the figures of tests/service/test_prepayments.py
(instalment 1,743.32 -> 911.85, interest not yet due 329.90 -> 172.55).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from lendflow.close_of_business.sweep import close_range
from lendflow.config.cob import load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.products import catalogue as products
from tests.web.api_helpers import OPENING_DAY, application

PROBLEM = "application/problem+json"
DUE = {"business_date": "2026-02-05"}


def paid_loan(ws: Any, as_user: Any, product: str) -> int:
    day = {"business_date": OPENING_DAY.isoformat()}
    ops, risk = as_user("ops"), as_user("risk")
    loan_id = ops.post("/api/v1/loans", json=application(product=product)).json()["id"]
    ops.post(f"/api/v1/loans/{loan_id}/review", json=day)
    risk.post(f"/api/v1/loans/{loan_id}/approve", json=day)
    paid = ops.post(
        f"/api/v1/loans/{loan_id}/disburse", json=day, headers={"Idempotency-Key": f"pay-{loan_id}"}
    )
    assert paid.status_code == 200, paid.text
    close_range(ws, 1, 10_000, OPENING_DAY, date(2026, 2, 4), "cob", load_cob_config())
    first = ops.post(
        f"/api/v1/loans/{loan_id}/repayments",
        json={"amount": "1753.32", **DUE},
        headers={"Idempotency-Key": f"inst-1-{loan_id}"},
    )
    assert first.status_code == 201, first.text
    return int(loan_id)


def reducing(ws: Any, tmp_path: Path) -> str:
    path = tmp_path / "cash-less.yaml"
    text = example_product_paths()[0].read_text(encoding="utf-8")
    path.write_text(
        text.replace("code: cash-easy", "code: cash-less") + "prepayment: reduce_instalment\n",
        encoding="utf-8",
    )
    products.import_product(ws, ws.actor("admin"), path, activate=True, as_of=OPENING_DAY)
    return "cash-less"


def test_a_prepayment_recalculates_once_per_key(ws: Any, as_user: Any, tmp_path: Path) -> None:
    loan_id = paid_loan(ws, as_user, reducing(ws, tmp_path))
    ops = as_user("ops")
    unkeyed = ops.post(f"/api/v1/loans/{loan_id}/prepayments", json={"amount": "4000.00", **DUE})
    assert unkeyed.status_code == 400 and "Idempotency-Key" in unkeyed.json()["detail"]
    done = ops.post(
        f"/api/v1/loans/{loan_id}/prepayments",
        json={"amount": "4000.00", **DUE},
        headers={"Idempotency-Key": "pre-1"},
    )
    assert done.status_code == 201, done.text
    got = done.json()["prepayment"]
    assert (got["instalment_before"], got["instalment_after"]) == ("1743.32", "911.85")
    assert (got["interest_after"], got["interest_saved"]) == ("172.55", "157.35")
    assert done.json()["outstanding"]["principal"] == "4386.68"
    again = ops.post(
        f"/api/v1/loans/{loan_id}/prepayments",
        json={"amount": "4000.00", **DUE},
        headers={"Idempotency-Key": "pre-1"},
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["outstanding"]["principal"] == "4386.68"
    versions = ops.get(f"/api/v1/loans/{loan_id}/schedule-versions").json()["versions"]
    assert [(v["version"], v["reason"], v["interest"]) for v in versions] == [
        (1, "payout", "459.90"),
        (2, "prepayment", "302.55"),
    ]
    assert as_user("admin").post("/api/v1/audit/verify").json()["problems"] == []


def test_a_product_without_the_setting_refuses_with_the_rule(ws: Any, as_user: Any) -> None:
    loan_id = paid_loan(ws, as_user, "cash-easy")
    refused = as_user("ops").post(
        f"/api/v1/loans/{loan_id}/prepayments",
        json={"amount": "4000.00", **DUE},
        headers={"Idempotency-Key": "pre-2"},
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["detail"].startswith("refused by rule PREPAYMENT: cash-easy")
    assert as_user("ops").get(f"/api/v1/loans/{loan_id}/schedule-versions").json()["versions"] == []
