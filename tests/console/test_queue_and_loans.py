"""The work queue and the loan page: claims that keep others off an application, actions
offered by state and role, money moves confirmed once however often confirm is pressed,
personal data masked until a deliberate, recorded reveal."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lendflow.domain.identity import sample_national_id
from lendflow.identity.users import add_user, set_password
from lendflow.loans.applications import Application, apply, start_review
from lendflow.loans.views import loan_events
from lendflow.workspace.context import Workspace
from tests.console.console_helpers import OPENING_DAY, PASSWORD, Staff

NATIONAL_ID = sample_national_id(OPENING_DAY.replace(year=1990), 77)


def referred(ws: Workspace, national_id: str = NATIONAL_ID) -> int:
    """An application the (default, manual) review referred to a person."""
    ops = ws.actor("ops")
    application = Application.parse(
        product="cash-easy",
        name="李四",
        national_id=national_id,
        phone="13912345678",
        monthly_income="9000",
        amount="6000",
        term=6,
        consents="all",
    )
    loan = apply(ws, ops, application, OPENING_DAY)
    start_review(ws, ops, loan.id, OPENING_DAY)
    return loan.id


def counts(page_text: str) -> dict[str, int]:
    return {
        key: int(n)
        for key, n in re.findall(r'data-queue="(\w+)"><strong>(\d+)</strong>', page_text)
    }


def events_named(ws: Workspace, loan_id: int, name: str) -> int:
    return sum(e.name == name for e in loan_events(ws, ws.actor("auditor"), loan_id))


def test_each_role_sees_its_own_queues(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    referred(console_ws)
    assert counts(browser("risk").get("/console").text) == {"referred": 1, "mine": 0}
    ops_queues = counts(browser("ops").get("/console").text)
    assert ops_queues == {"to_review": 0, "to_disburse": 0}
    assert counts(browser("committee1").get("/console").text) == {"gates": 0}


def test_only_the_claimer_decides_and_an_admin_reassigns(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    admin = console_ws.actor("admin")
    add_user(console_ws, admin, "risk2", ["risk_officer"], datetime.now(UTC))
    set_password(console_ws, admin, "risk2", PASSWORD)
    loan_id = referred(console_ws)
    risk, risk2 = browser("risk"), browser("risk2")

    risk.get("/console")
    page = risk.follow(risk.post("/console/queue/claim", {"loan_id": str(loan_id)}))
    assert f"loan {loan_id} claimed" in page.text
    assert counts(page.text)["mine"] == 1

    risk2.get("/console")
    taken = risk2.follow(risk2.post("/console/queue/claim", {"loan_id": str(loan_id)}))
    assert f"loan {loan_id} is claimed by risk already" in taken.text
    decide = {"loan_id": str(loan_id), "decision": "approve", "note": "income checked"}
    refused = risk2.follow(risk2.post("/console/queue/decide", decide))
    assert f"loan {loan_id} is claimed by risk; only they decide it" in refused.text

    boss = browser("admin")
    boss.get("/console")
    moved = boss.follow(
        boss.post("/console/queue/reassign", {"loan_id": str(loan_id), "to": "risk2"})
    )
    assert f"loan {loan_id} assigned to risk2" in moved.text
    risk2.get("/console")
    decided = risk2.follow(risk2.post("/console/queue/decide", decide))
    assert f"loan {loan_id}: approved" in decided.text
    assert counts(decided.text) == {"referred": 0, "mine": 0}
    assert events_named(console_ws, loan_id, "ApplicationReassigned") == 1


def test_a_payout_and_a_repayment_confirmed_twice_move_money_once(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    loan_id = referred(console_ws)
    risk = browser("risk")
    risk.get("/console")
    risk.post(
        "/console/queue/decide", {"loan_id": str(loan_id), "decision": "approve", "note": "ok"}
    )
    ops = browser("ops")
    page = ops.get(f"/console/loans/{loan_id}")
    assert 'id="action-disburse"' in page.text and 'id="action-repay"' not in page.text
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key is not None
    form = {"key": key.group(1)}

    confirm = ops.post(f"/console/loans/{loan_id}/disburse", {**form, "step": "review"})
    assert confirm.status_code == 200
    assert 'id="confirm-amount">6,000.00<' in confirm.text.replace("6000.00", "6,000.00")
    assert f'id="confirm-date">{OPENING_DAY}<' in confirm.text
    first = ops.post(f"/console/loans/{loan_id}/disburse", {**form, "step": "confirm"})
    again = ops.post(f"/console/loans/{loan_id}/disburse", {**form, "step": "confirm"})
    assert "paid+out" in first.headers["location"]
    assert "replayed" in again.headers["location"]
    assert events_named(console_ws, loan_id, "LoanDisbursed") == 1

    papers = ops.get(f"/console/loans/{loan_id}", params={"tab": "documents"})
    link = re.search(r'href="(/console/documents/\d+)">\d+</a></td><td>contract', papers.text)
    assert link is not None, papers.text
    assert ops.client.get(link.group(1)).status_code == 403  # the contract names the borrower
    contract = risk.client.get(link.group(1))
    assert contract.status_code == 200 and "attachment" in contract.headers["content-disposition"]
    digest = hashlib.sha256(contract.content).hexdigest()
    assert contract.headers["etag"] == f'"{digest}"' and digest[:16] in papers.text

    page = ops.get(f"/console/loans/{loan_id}")
    assert 'id="loan-state">active<' in page.text and 'id="action-repay"' in page.text
    apr = re.search(
        r'id="apr">([0-9.]+)% \(IRR, compound 复利\) / ([0-9.]+)% \(simple 单利\)'
        r" / ([0-9.]+)% \(按实际日期计算的内部收益率 XIRR，一年按365天\)",
        page.text,
    )
    assert apr is not None, page.text
    assert Decimal(apr.group(1)) > Decimal(apr.group(2)) > 0 and Decimal(apr.group(3)) > 0
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key is not None
    pay = {"key": key.group(1), "amount": "500.00"}
    confirm = ops.post(f"/console/loans/{loan_id}/repayments", {**pay, "step": "review"})
    assert 'id="confirm-amount">500.00<' in confirm.text
    for _ in range(3):  # a double (triple) click on confirm
        ops.post(f"/console/loans/{loan_id}/repayments", {**pay, "step": "confirm"})
    assert events_named(console_ws, loan_id, "RepaymentPosted") == 1


def test_bad_amount_is_one_line_and_moves_nothing(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    loan_id = referred(console_ws)
    ops = browser("ops")
    ops.get(f"/console/loans/{loan_id}")
    answer = ops.post(
        f"/console/loans/{loan_id}/repayments",
        {"key": "k" * 20, "amount": "12.345", "step": "confirm"},
    )
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert events_named(console_ws, loan_id, "RepaymentPosted") == 0


def test_personal_data_is_masked_until_a_recorded_reveal(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    loan_id = referred(console_ws)
    ops_page = browser("ops").get(f"/console/loans/{loan_id}")
    assert NATIONAL_ID not in ops_page.text
    assert 'id="reveal"' not in ops_page.text

    risk = browser("risk")
    page = risk.get(f"/console/loans/{loan_id}")
    assert NATIONAL_ID not in page.text and 'id="reveal"' in page.text
    shown = risk.post(f"/console/loans/{loan_id}/reveal")
    assert f'id="national-id">{NATIONAL_ID}<' in shown.text
    assert events_named(console_ws, loan_id, "PersonalDataRevealed") == 1

    ops = browser("ops")
    ops.get(f"/console/loans/{loan_id}")
    assert ops.post(f"/console/loans/{loan_id}/reveal").status_code == 403


def test_search_finds_a_borrowers_loans_by_national_id_or_phone(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    loan_id = referred(console_ws)
    referred(console_ws, sample_national_id(OPENING_DAY.replace(year=1991), 78))
    ops = browser("ops")
    by_id = ops.get("/console/loans", params={"q": NATIONAL_ID})
    assert re.findall(r'href="/console/loans/(\d+)"', by_id.text) == [str(loan_id)]
    by_phone = ops.get("/console/loans", params={"q": "139 1234 5678"})
    assert 'id="total">2<' in by_phone.text
    jump = ops.client.get("/console/loans", params={"q": str(loan_id)}, follow_redirects=False)
    assert jump.headers["location"] == f"/console/loans/{loan_id}"
    odd = ops.get("/console/loans", params={"q": "hello"})
    assert "search by a loan id" in odd.text and 'id="total">0<' in odd.text


@pytest.mark.parametrize("tab", ["schedule", "events", "decision", "documents", "tickets"])
def test_every_tab_of_the_loan_page_answers(
    browser: Callable[..., Staff], console_ws: Workspace, tab: str
) -> None:
    loan_id = referred(console_ws)
    page = browser("auditor").get(f"/console/loans/{loan_id}", params={"tab": tab})
    assert page.status_code == 200
    assert 'aria-current="page"' in page.text
    if tab == "events":
        assert page.text.count("✓") >= 2  # applied and review started, each link verified
