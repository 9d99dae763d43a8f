"""The audit in the console: `audit verify` at a button, all clear or every problem, and
the event trail of a loan or a product with each link of the chain checked."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from lendflow.workspace.context import Workspace
from tests.console.console_helpers import Staff
from tests.web.api_helpers import active_loan
from tests.web.conftest import api, as_user  # noqa: F401 - loans made over the API


@pytest.fixture
def loan(as_user: Callable[..., Any]) -> int:  # noqa: F811
    return active_loan(as_user)


def test_an_auditor_runs_the_audit_and_sees_all_clear_with_its_counts(
    loan: int, browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    auditor = browser("auditor")
    assert 'id="run-audit"' in auditor.get("/console/audit").text
    page = auditor.post("/console/audit/verify")
    assert page.status_code == 200, page.text
    assert 'data-ok="true"' in page.text and 'id="all-clear"' in page.text
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page.text))
    assert counts["已核对贷款"] == "1" and int(counts["已核对事件"]) > 0

    with console_ws.engine.begin() as connection:
        connection.execute(
            text("UPDATE loans SET principal_outstanding = 1 WHERE id = :id"), {"id": loan}
        )
    auditor.get("/console/audit")
    found = auditor.post("/console/audit/verify")
    assert 'data-ok="false"' in found.text
    assert f"loan {loan}: principal_outstanding is 0.01 but the journal says 10000.00" in (
        found.text
    )


def test_the_audit_button_is_the_auditors_and_admins(browser: Callable[..., Staff]) -> None:
    ops = browser("ops")
    page = ops.get("/console/audit")
    assert page.status_code == 200 and 'id="run-audit"' not in page.text
    refused = ops.post("/console/audit/verify")
    assert refused.status_code == 403 and "may not run the audit" in refused.text
    assert 'id="run-audit"' in browser("admin").get("/console/audit").text


def test_the_trail_of_a_loan_and_of_a_product(loan: int, browser: Callable[..., Staff]) -> None:
    person = browser("risk")
    trail = person.get(f"/console/audit?entity=loan&ref={loan}")
    assert trail.status_code == 200, trail.text
    names = re.findall(r'<tr data-event="\d+"><td>\d+</td><td>(\w+)</td>', trail.text)
    assert names[0] == "LoanSubmitted" and "LoanDisbursed" in names
    assert trail.text.count("✓") == len(names)  # every link holds
    product = person.get("/console/audit?entity=product&ref=cash-easy")
    assert "ProductVersionImported" in product.text
    assert person.get("/console/audit?entity=loan&ref=999").status_code == 404
    bad = person.get("/console/audit?entity=loan&ref=abc")
    assert bad.status_code == 422 and "loan must be a whole number" in bad.text
    assert person.get("/console/audit?entity=product&ref=nosuch").status_code == 404
