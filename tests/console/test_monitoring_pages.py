"""Monitoring in the console: a product's dashboard as of a date with its charts, tickets
with deadlines and breaches, and close of business started, followed and recorded."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest

from lendflow.monitoring.tickets import NewTicket, list_tickets, open_ticket
from lendflow.workspace.context import Workspace
from tests.console.console_helpers import OPENING_DAY, Staff
from tests.web.api_helpers import active_loan
from tests.web.conftest import api, as_user  # noqa: F401 - loans made over the API


@pytest.fixture
def loan(as_user: Callable[..., Any]) -> int:  # noqa: F811
    """A loan of cash-easy paid out on the opening day (10,000.00 over six months)."""
    return active_loan(as_user)


def test_the_dashboard_shows_a_product_as_of_a_date_with_charts(
    loan: int, browser: Callable[..., Staff]
) -> None:
    person = browser("risk")
    page = person.get("/console/monitoring?product=cash-easy&as_of=2026-03-31")
    assert page.status_code == 200, page.text
    assert 'id="kpi-outstanding">10000.00<' in page.text
    assert 'id="kpi-active">1<' in page.text
    assert 'id="kpi-par30">100.00%<' in page.text  # two instalments unpaid by then
    assert '<ul id="alerts"><li class="broken">par30' in page.text
    assert page.text.count("<svg") >= 2 and "<script" not in page.text.split("<body", 1)[1]
    assert "月末贷款余额" in page.text  # the review's own chart words, in the page's language
    assert [m for m in re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td>", page.text)] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
    ]
    before = person.get("/console/monitoring?product=cash-easy&as_of=2025-12-31")
    assert 'id="kpi-outstanding">0.00<' in before.text  # as of a date before the payout

    person.follow(person.post("/console/language", {"lang": "en", "next": "/console"}))
    english = person.get("/console/monitoring?as_of=2026-03-31")
    assert "Outstanding at month end (CNY)" in english.text and "月末贷款余额" not in english.text
    assert 'value="cash-easy" selected' in english.text  # the live product by default


def test_a_bad_date_or_product_is_one_clear_line(browser: Callable[..., Staff]) -> None:
    person = browser("auditor")
    bad = person.get("/console/monitoring?product=cash-easy&as_of=2026-02-30")
    assert bad.status_code == 422 and "as_of" in bad.text and 'id="kpis"' not in bad.text
    unknown = person.get("/console/monitoring?product=nosuch")
    assert unknown.status_code == 404 and "nosuch" in unknown.text


def test_tickets_are_opened_listed_with_their_deadline_and_resolved(
    loan: int, browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    late = NewTicket(kind="question", subject="old question", loan_id=loan)
    old = open_ticket(console_ws, console_ws.actor("ops"), late, date(2025, 12, 1))
    ops = browser("ops")
    ops.get("/console/tickets")
    opened = ops.follow(
        ops.post(
            "/console/tickets",
            {"kind": "complaint", "subject": "charged twice", "loan_id": str(loan)},
        )
    )
    assert "opened, due 2026-01-20" in opened.text  # 15 days for a complaint
    rows = re.findall(r'<tr data-ticket="(\d+)"( class="breached")?>', opened.text)
    assert [(int(i), bool(b)) for i, b in rows] == [(old.id, True), (old.id + 1, False)]

    breached = ops.get("/console/tickets?show=breached")
    assert re.findall(r'<tr data-ticket="(\d+)"', breached.text) == [str(old.id)]
    resolved = ops.follow(
        ops.post(f"/console/tickets/{old.id}/resolve", {"resolution": "answered by phone"})
    )
    assert f"ticket {old.id} resolved (after its deadline)" in resolved.text
    still_open = list_tickets(console_ws, console_ws.actor("ops"), OPENING_DAY, open_only=True)
    assert [t.subject for t in still_open] == ["charged twice"]

    auditor = browser("auditor")
    page = auditor.get("/console/tickets")
    assert 'id="open-ticket"' not in page.text and "resolution-" not in page.text
    refused = auditor.follow(auditor.post("/console/tickets", {"kind": "question", "subject": "x"}))
    assert "may not open service tickets" in refused.text
    assert len(list_tickets(console_ws, console_ws.actor("ops"), OPENING_DAY)) == 2


def _settled(person: Staff) -> httpx.Response:
    """The close-of-business page once no run started here is queued or running."""
    deadline = time.monotonic() + 60
    while True:
        page = person.get("/console/cob")
        if 'hx-trigger="every 2s"' not in page.text:
            return page
        assert time.monotonic() < deadline, "close of business is still running"
        time.sleep(0.1)


def test_close_of_business_is_started_once_followed_and_recorded(
    loan: int, browser: Callable[..., Staff]
) -> None:
    ops = browser("ops")
    form = ops.get("/console/cob")
    key = re.search(r'name="key" value="([^"]+)"', form.text)
    assert key, "the form carries an idempotency key"
    asked = {"key": key.group(1), "first": "2026-01-05"}
    first = ops.follow(ops.post("/console/cob/runs", asked))
    assert "close of business 2026-01-05 … 2026-01-05 started" in first.text
    again = ops.follow(ops.post("/console/cob/runs", asked))  # a double click
    assert "already started" in again.text

    page = _settled(ops)
    jobs = re.findall(r'<tr data-job="(\d+)" data-state="(\w+)">', page.text)
    assert jobs == [("1", "succeeded")]
    assert '<progress value="1" max="1"' in page.text
    recorded = re.findall(r'<tr data-run="\d+"><td>\d+</td><td>([-\d]+)</td>', page.text)
    assert recorded == ["2026-01-05"]
    assert browser("auditor").get("/console/cob").text.count('data-run="') == 1
    block = ops.get("/console/cob", headers={"HX-Request": "true"})
    assert block.text.lstrip().startswith('<section id="started"')


def test_close_of_business_refuses_a_day_to_come_and_a_role_without_the_right(
    browser: Callable[..., Staff],
) -> None:
    ops = browser("ops")
    key = re.search(r'name="key" value="([^"]+)"', ops.get("/console/cob").text)
    assert key
    ahead = ops.follow(ops.post("/console/cob/runs", {"key": key.group(1), "first": "2026-01-06"}))
    assert "cannot close 2026-01-06: it is after today (2026-01-05)" in ahead.text
    auditor = browser("auditor")
    page = auditor.get("/console/cob")
    assert 'id="start-cob"' not in page.text
    refused = auditor.follow(
        auditor.post("/console/cob/runs", {"key": "abcdefgh12", "first": "2026-01-04"})
    )
    assert "may not run close of business" in refused.text
    assert 'data-job="' not in refused.text
