"""The finance team's reports over the API: the same documents `lendflow ledger` prints."""

from __future__ import annotations

from datetime import date
from typing import Any

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.workspace.context import Workspace
from tests.web.api_helpers import active_loan


def test_an_auditor_reads_the_trial_balance_provisions_journal_and_month_end(
    ws: Workspace, as_user: Any
) -> None:
    """A 10,000.00 loan paid out on 5 Jan and closed to 31 Jan is provided for at 1.5%."""
    loan_id = active_loan(as_user)
    cob.close_range(ws, 1, 10_000, date(2026, 1, 5), date(2026, 1, 31), "cob", load_cob_config())
    auditor = as_user("auditor")

    balance = auditor.get("/api/v1/ledger/trial-balance", params={"as_of": "2026-01-31"})
    assert balance.status_code == 200, balance.text
    shown = balance.json()
    assert shown["total_debit"] == shown["total_credit"]
    by_code = {a["code"]: a for a in shown["accounts"]}
    assert by_code["loan_loss_allowance"]["credit"] == "150.00"
    assert by_code["provision_expense"]["debit"] == "150.00"

    provisions = as_user("finance").get("/api/v1/ledger/provisions", params={"as_of": "2026-02-03"})
    assert provisions.status_code == 200
    assert provisions.json()["month_end"] == "2026-01-31"
    assert provisions.json()["classes"] == [
        {"classification": "normal", "loans": 1, "principal": "10000.00", "rate": "1.5",
         "provision": "150.00"}
    ]  # fmt: skip

    journal = auditor.get(
        "/api/v1/ledger/journal", params={"from": "2026-01-31", "to": "2026-01-31"}
    )
    assert journal.status_code == 200 and journal.headers["content-type"].startswith("text/csv")
    assert f"provision,{loan_id},loan_loss_allowance,1304,贷款损失准备,0.00,150.00," in journal.text

    month = auditor.get("/api/v1/reports/month-end", params={"month": "2026-01"})
    assert month.status_code == 200
    assert month.json()["provision_charged"] == "150.00"
    page = auditor.get(
        "/api/v1/reports/month-end", params={"month": "2026-01", "format": "html", "locale": "en"}
    )
    assert page.headers["content-type"].startswith("text/html") and page.text.count("<svg") == 3


def test_an_operator_is_forbidden_and_a_bad_window_is_refused(as_user: Any) -> None:
    refused = as_user("ops").get("/api/v1/ledger/trial-balance", params={"as_of": "2026-01-31"})
    assert refused.status_code == 403
    backwards = as_user("auditor").get(
        "/api/v1/ledger/journal", params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert backwards.status_code == 422 and "before it starts" in backwards.json()["detail"]
    bad = as_user("auditor").get("/api/v1/reports/month-end", params={"month": "2026-13"})
    assert bad.status_code == 422
