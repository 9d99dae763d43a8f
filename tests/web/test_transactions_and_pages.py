"""A loan's transactions over HTTP, every list a page with its total, the payer's reference
and backdated repayments, the calculator's every option, and the health check."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from lendflow.close_of_business.sweep import close_range
from lendflow.config.cob import load_cob_config
from lendflow.workspace.context import Workspace
from tests.web.api_helpers import OPENING_DAY, active_loan, application

DAY = OPENING_DAY.isoformat()


def repay(as_user: Any, loan_id: int, key: str, **body: Any) -> Any:
    return as_user("ops").post(
        f"/api/v1/loans/{loan_id}/repayments", json=body, headers={"Idempotency-Key": key}
    )


def test_a_loans_transactions_come_a_page_at_a_time_as_the_cli_prints_them(
    as_user: Any, lendflow: Any
) -> None:
    loan_id = active_loan(as_user)
    paid = repay(as_user, loan_id, "pay-1", amount="500.00", business_date=DAY, reference="B-1")
    assert paid.status_code == 201, paid.text
    assert paid.json()["payment"] == {
        "amount": "500.00",
        "idempotency_key": "pay-1",
        "reference": "B-1",
    }
    served = as_user("auditor").get(f"/api/v1/loans/{loan_id}/transactions")
    assert served.status_code == 200, served.text
    assert served.json() == lendflow(f"loan transactions {loan_id} --json --as auditor").json()
    page = served.json()
    assert page["total"] == 2
    assert [(e["kind"], e["reference"]) for e in page["items"]] == [
        ("disbursement", None),
        ("repayment", "B-1"),
    ]
    second = as_user("ops").get(
        f"/api/v1/loans/{loan_id}/transactions", params={"offset": 1, "limit": 1}
    )
    assert second.json() == {"total": 2, "items": page["items"][1:]}
    assert as_user("ops").get("/api/v1/loans/999/transactions").status_code == 404


def test_include_adds_the_transactions_and_the_documents(as_user: Any) -> None:
    loan_id = active_loan(as_user)
    shown = as_user("risk").get(
        f"/api/v1/loans/{loan_id}", params={"include": "transactions,documents"}
    )
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert [e["kind"] for e in body["transactions"]] == ["disbursement"]
    assert "contract" in [d["kind"] for d in body["documents"]]
    assert "schedule" not in body and "events" not in body
    unknown = as_user("ops").get(f"/api/v1/loans/{loan_id}", params={"include": "ledger"})
    assert unknown.status_code == 422
    assert "schedule, transactions, events, decision, documents" in unknown.json()["detail"]


def test_every_list_is_a_page_with_the_total_that_match(as_user: Any) -> None:
    ops, risk = as_user("ops"), as_user("risk")
    loan_id = active_loan(as_user)
    for n in range(3):
        repay(as_user, loan_id, f"k-{n}", amount="10.00", business_date=DAY)
    events = ops.get(f"/api/v1/loans/{loan_id}/events").json()
    assert events["total"] == len(events["items"]) > 3
    page = ops.get(f"/api/v1/loans/{loan_id}/events", params={"offset": 1, "limit": 2}).json()
    assert page["total"] == events["total"]
    assert page["items"] == events["items"][1:3]

    documents = ops.get(f"/api/v1/loans/{loan_id}/documents", params={"limit": 1}).json()
    assert documents["total"] >= 1 and len(documents["items"]) == 1

    waiting = [ops.post("/api/v1/loans", json=application()).json()["id"] for _ in range(3)]
    for other in waiting:
        ops.post(f"/api/v1/loans/{other}/review", json={"business_date": DAY})
    queue = risk.get("/api/v1/queue", params={"limit": 1}).json()
    assert queue["total"] == 3 and [q["id"] for q in queue["items"]] == waiting[:1]
    assert risk.get("/api/v1/queue", params={"product": "nosuch"}).json() == {
        "total": 0,
        "items": [],
    }
    for url in (
        f"/api/v1/loans/{loan_id}/events",
        "/api/v1/queue",
        f"/api/v1/loans/{loan_id}/documents",
    ):
        assert ops.get(url, params={"limit": 201}).status_code == 422, url
        assert ops.get(url, params={"offset": -1}).status_code == 422, url


def test_a_reference_is_kept_with_the_payment_and_checked(as_user: Any) -> None:
    loan_id = active_loan(as_user)
    bad = repay(as_user, loan_id, "r-1", amount="10.00", business_date=DAY, reference="a b")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "reference"
    too_long = repay(as_user, loan_id, "r-1", amount="10.00", reference="R" * 65)
    assert too_long.status_code == 422
    first = repay(as_user, loan_id, "r-1", amount="10.00", business_date=DAY, reference="B-7")
    other = repay(as_user, loan_id, "r-1", amount="10.00", business_date=DAY, reference="B-8")
    assert (first.status_code, other.status_code) == (201, 422)
    trail = as_user("ops").get(f"/api/v1/loans/{loan_id}/events").json()["items"]
    (posted,) = [e for e in trail if e["name"] == "RepaymentPosted"]
    assert '"reference":"B-7"' in posted["payload"].replace(" ", "")


def test_a_backdated_repayment_over_http_reprocesses_the_loan_once(
    as_user: Any, ws: Workspace
) -> None:
    loan_id = active_loan(as_user)
    close_range(ws, 1, 10_000, OPENING_DAY, date(2026, 1, 20), "cob", load_cob_config())
    on_closed_day = repay(as_user, loan_id, "late-1", amount="300.00", business_date="2026-01-10")
    assert on_closed_day.status_code == 422  # the open date is the 21st
    body = {"amount": "300.00", "value_date": "2026-01-10", "reference": "ICBC-0110"}
    late = repay(as_user, loan_id, "late-1", **body)
    assert late.status_code == 201, late.text
    assert late.json()["as_of"] == "2026-01-21"  # the loan as it stands on its open date
    again = repay(as_user, loan_id, "late-1", **body)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.json() == late.json()
    names = [
        e["name"] for e in as_user("ops").get(f"/api/v1/loans/{loan_id}/events").json()["items"]
    ]
    assert names.count("RepaymentBackdated") == names.count("LoanReprocessed") == 1
    entries = as_user("ops").get(f"/api/v1/loans/{loan_id}/transactions").json()["items"]
    (payment,) = [e for e in entries if e["kind"] == "repayment"]
    assert (payment["business_date"], payment["reference"]) == ("2026-01-10", "ICBC-0110")
    mixed = repay(
        as_user,
        loan_id,
        "late-2",
        amount="1.00",
        value_date="2026-01-10",
        business_date="2026-01-21",
    )
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "business_date"
    on_open_date = repay(as_user, loan_id, "late-3", amount="1.00", value_date="2026-01-21")
    assert on_open_date.status_code == 201, on_open_date.text
    assert as_user("auditor").post("/api/v1/audit/verify").json()["ok"] is True


CALC = (
    "--principal 10000 --annual-rate 18 --repayments 12 --disbursed 2026-01-05",
    {"principal": "10000", "annual_rate": "18", "repayments": 12, "disbursed": "2026-01-05"},
)


@pytest.mark.parametrize(
    ("options", "fields"),
    [
        (
            "--amortization equal-principal --interest flat --interest-period daily"
            " --days-in-year 365 --days-in-month actual --principal-grace 2 --interest-grace 1"
            " --instalment-multiple 10 --first-repayment 2026-02-20 --upfront-fee 100"
            " --every 2 --frequency weeks",
            {
                "amortization": "equal_principal",
                "interest": "flat",
                "interest_period": "daily",
                "days_in_year": "365",
                "days_in_month": "actual",
                "principal_grace": 2,
                "interest_grace": 1,
                "instalment_multiple": "10",
                "first_repayment": "2026-02-20",
                "upfront_fee": "100",
                "every": 2,
                "frequency": "weeks",
            },
        ),
        (
            "--method interest-only --days-in-month 30 --interest-period daily",
            {"method": "interest_only", "days_in_month": "30", "interest_period": "daily"},
        ),
        ("--days-in-year actual --method bullet", {"days_in_year": "actual", "method": "bullet"}),
        (
            "--interest-period daily --days-in-year actual --leap-years fixed_365"
            " --rounding HALF_EVEN --instalment-multiple 1 --multiple-rounding up"
            " --disbursed 2024-01-31 --first-repayment 2024-02-10",
            {
                "interest_period": "daily",
                "days_in_year": "actual",
                "leap_years": "fixed_365",
                "rounding": "HALF_EVEN",
                "instalment_multiple": "1",
                "multiple_rounding": "up",
                "disbursed": "2024-01-31",
                "first_repayment": "2024-02-10",
            },
        ),
    ],
)
def test_the_calculator_takes_every_option_of_calc_schedule(
    as_user: Any, lendflow: Any, options: str, fields: dict[str, Any]
) -> None:
    printed = lendflow(f"calc schedule {CALC[0]} {options} --json")
    assert printed.exit_code == 0, printed.stderr
    served = as_user("ops").post("/api/v1/calc/schedule", json={**CALC[1], **fields})
    assert served.status_code == 200, served.text
    assert served.json() == printed.json()


def test_the_calculator_answers_the_apr_over_actual_dates(as_user: Any) -> None:
    """A 10-day first period and a 200.00 fee: 24.25% per repayment period, 27.67% over
    the actual dates (the hand-worked figure of `tests/unit/test_apr.py`)."""
    body = {**CALC[1], "first_repayment": "2026-01-15", "upfront_fee": "200"}
    served = as_user("ops").post("/api/v1/calc/schedule", json=body)
    assert served.status_code == 200, served.text
    assert served.json()["apr"] == {"compound": "24.25", "simple": "21.91", "actual_dates": "27.67"}


@pytest.mark.parametrize(
    "field", [{"rounding": "DOWN"}, {"leap_years": "fixed-365"}, {"multiple_rounding": "down"}]
)
def test_the_calculator_refuses_an_unknown_convention(as_user: Any, field: dict[str, str]) -> None:
    refused = as_user("ops").post("/api/v1/calc/schedule", json={**CALC[1], **field})
    assert refused.status_code == 422
    assert next(iter(field)) in refused.text


def test_the_calculator_refuses_a_preset_contradicted_as_the_cli_does(as_user: Any) -> None:
    body = {**CALC[1], "method": "annuity", "interest": "flat"}
    refused = as_user("ops").post("/api/v1/calc/schedule", json=body)
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "method annuity sets amortization and interest; drop amortization/interest"
    )
    grace = {**CALC[1], "method": "bullet", "interest_grace": 2}
    assert "drop interest_grace" in as_user("ops").post("/api/v1/calc/schedule", json=grace).text


def test_the_health_check_ignores_what_a_load_balancer_adds(api: Any, as_user: Any) -> None:
    checked = api.get("/healthz", params={"lb": "probe-7", "ts": "1"})
    assert checked.status_code == 200
    assert checked.json() == {"status": "ok", "database": "reachable"}
    assert as_user("ops").get("/api/v1/products", params={"lb": "1"}).status_code == 422
