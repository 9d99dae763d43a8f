"""The console as staff use it, in headless Chromium against a real `lendflow web`.

Every assertion is about what a person sees on the page. Screenshots of the main pages
are kept under test-artefacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from lendflow.domain.consents import CONSENTS
from lendflow.domain.identity import sample_national_id
from tests.browser.browser_helpers import SEEDED_ID, Console, screenshot, sign_in

pytestmark = pytest.mark.browser

Person = Callable[..., Page]


def queue_counts(page: Page) -> dict[str, int]:
    """The counts at the top of the work queue, by queue."""
    counts = {}
    for link in page.locator("#queue-counts a").all():
        counts[str(link.get_attribute("data-queue"))] = int(link.locator("strong").inner_text())
    return counts


def test_each_role_signs_in_and_sees_its_own_queue(person: Person, console: Console) -> None:
    ops = person("ops", through_form=True)
    expect(ops.locator("#signed-in-user")).to_have_text("ops")
    expect(ops.locator("#today")).to_have_text("2026-01-05")
    assert queue_counts(ops) == {"to_review": 2, "to_disburse": 0}
    for loan_id in console.submitted:
        expect(ops.locator(f"#to_review a[href='/console/loans/{loan_id}']")).to_be_visible()
    screenshot(ops, "queue")

    risk = person("risk", through_form=True)
    expect(risk.locator("#signed-in-user")).to_have_text("risk")
    assert queue_counts(risk) == {"referred": 1, "mine": 0}
    expect(risk.locator(f"#referred tr[data-loan='{console.referred}']")).to_be_visible()

    committee = person("committee1", through_form=True)
    expect(committee.locator("#signed-in-user")).to_have_text("committee1")
    assert queue_counts(committee) == {"gates": 0}
    expect(committee.locator("#new-application")).to_have_count(0)


def test_a_loan_from_application_to_a_repayment_double_clicked_moves_money_once(
    person: Person,
) -> None:
    # An operator enters the application; a field typed wrong is shown beside itself.
    ops = person("ops")
    ops.click("#new-application")
    expect(ops.locator("h1")).to_have_text("新申请")
    ops.select_option("#f-product", "cash-easy")
    ops.fill("#f-name", "钱七")
    ops.fill("#f-national_id", sample_national_id(date(1992, 4, 1), 77))
    ops.fill("#f-phone", "13700001234")
    ops.fill("#f-monthly_income", "12000")
    ops.fill("#f-amount", "8000.005")
    ops.fill("#f-term", "6")
    ops.select_option("#f-employment", "salaried")
    for consent in CONSENTS:  # the applicant gave every consent, one box each
        ops.check(f"#c-{consent}")
    ops.click("#submit-application")
    expect(ops.locator("#err-amount")).to_have_text(
        "amount has more than two decimal places: 8000.005"
    )
    screenshot(ops, "application")
    expect(ops.locator("#f-name")).to_have_value("钱七")
    ops.fill("#f-amount", "8000.00")
    ops.click("#submit-application")
    expect(ops.locator("#loan-state")).to_have_text("submitted")
    landed = re.search(r"/console/loans/(\d+)", ops.url)
    assert landed, ops.url
    loan_id = int(landed.group(1))

    # ... and runs its review. This workspace refers every application to a person
    # (LENDFLOW_DECISIONING=manual), so the claim by a risk officer is never skipped.
    ops.click("#action-review")
    expect(ops.locator("#loan-state")).to_have_text("under_review")

    # A risk officer claims it from the queue and approves it with a note.
    risk = person("risk")
    risk.locator(f"#referred tr[data-loan='{loan_id}'] button").click()
    expect(risk.locator(".notice")).to_have_text(f"loan {loan_id} claimed")
    mine = risk.locator(f"#mine tr[data-loan='{loan_id}']")
    mine.locator(f"#decision-{loan_id}").select_option("approve")
    mine.locator(f"#note-{loan_id}").fill("收入稳定，同意")
    mine.locator("button", has_text="决策").click()
    expect(risk.locator(".notice")).to_have_text(f"loan {loan_id}: approved")

    # The operator pays it out through the confirmation step.
    ops.goto(f"/console/loans/{loan_id}")
    expect(ops.locator("#loan-state")).to_have_text("approved")
    ops.click("#action-disburse")
    expect(ops.locator("h1")).to_have_text("请确认资金变动")
    expect(ops.locator("#confirm-amount")).to_have_text("8000.00")
    expect(ops.locator("#confirm-date")).to_have_text("2026-01-05")
    screenshot(ops, "confirmation")
    ops.click("#confirm")
    expect(ops.locator("#loan-state")).to_have_text("active")
    expect(ops.locator(".notice")).to_have_text(f"loan {loan_id} paid out")

    # A repayment through the confirmation step, confirm double-clicked.
    ops.fill("#repay-amount", "500.00")
    ops.click("#action-repay")
    expect(ops.locator("#confirm-amount")).to_have_text("500.00")
    expect(ops.locator("#confirm-date")).to_have_text("2026-01-05")
    confirmation = {
        name: ops.locator(f"#main form input[name={name}]").input_value()
        for name in ("csrftoken", "key", "step", "amount")
    }
    ops.dblclick("#confirm")
    expect(ops.locator(".notice")).to_contain_text("repayment of 500.00")
    outstanding = ops.locator("#outstanding").inner_text()
    screenshot(ops, "loan")

    # The same confirmation arriving again (a second tab, a resubmitted form) is the
    # first one replayed: nothing more moves.
    again = ops.request.post(f"/console/loans/{loan_id}/repayments", form=confirmation)
    assert "repayment of 500.00 replayed: already posted" in again.text()
    ops.goto(f"/console/loans/{loan_id}?tab=events")
    events = ops.locator("#tab tbody td:nth-child(2)").all_inner_texts()
    assert events.count("LoanDisbursed") == 1
    assert events.count("RepaymentPosted") == 1
    ops.goto(f"/console/loans/{loan_id}?tab=schedule")
    paid = ops.locator("#tab tbody td:nth-child(7)").all_inner_texts()
    assert sum(float(p.replace(",", "")) for p in paid) == 500.0
    expect(ops.locator("#outstanding")).to_have_text(outstanding)


def test_a_forged_post_without_the_csrf_token_is_refused(person: Person) -> None:
    ops = person("ops")
    ops.goto("/console/loans")
    total = ops.locator("#total").inner_text()
    forged = ops.request.post(
        "/console/applications",
        form={
            "product": "cash-easy",
            "name": "伪造",
            "national_id": sample_national_id(date(1990, 1, 1), 999),
            "phone": "13800000000",
            "monthly_income": "9000",
            "amount": "5000",
            "term": "6",
        },
    )
    assert forged.status == 403
    logout = ops.request.post("/console/logout", form={"next": "/console"})
    assert logout.status == 403
    ops.reload()
    expect(ops.locator("#signed-in-user")).to_have_text("ops")  # still signed in
    expect(ops.locator("#total")).to_have_text(total)  # and no application was taken


def test_five_wrong_passwords_lock_the_account(person: Person) -> None:
    page = person(None)
    screenshot(page, "login")
    for attempt in range(1, 6):
        sign_in(page, "auditor", "not the password")
        expected = "locked until" if attempt == 5 else "wrong user name or password"
        expect(page.locator("main .error")).to_contain_text(expected)
    sign_in(page, "auditor")  # the right password, sixth time
    expect(page.locator("main .error")).to_contain_text("locked until")
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("#signed-in-user")).to_have_count(0)


def test_an_operator_does_not_see_a_full_national_id(person: Person, console: Console) -> None:
    ops = person("ops")
    ops.goto("/console/loans")
    screenshot(ops, "loans")
    ops.click(f"#results a[href='/console/loans/{console.submitted[0]}']")
    shown = ops.locator("#national-id").inner_text()
    assert re.fullmatch(r"110105\*+\d{4}", shown), shown
    assert SEEDED_ID not in ops.content()
    expect(ops.locator("#reveal")).to_have_count(0)


def test_a_stage_run_is_started_and_its_gate_decided_by_the_committee_not_the_manager(
    person: Person,
) -> None:
    """The product manager starts the charter run on the samples and follows it; at the
    gate the manager gets no form and a forged decision is refused; a committee member
    decides, and the product moves to research."""
    pm = person("pm")
    pm.goto("/console/products/anxin/stages/charter")
    expect(pm.locator("#samples")).to_be_checked()
    with pm.expect_navigation(url="**/stages/charter/runs/*", timeout=180_000):
        pm.click("#start", no_wait_after=True)  # the server starts the flow (Prefect) first
    expect(pm.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=120_000)
    screenshot(pm, "stage-run")

    pm.goto("/console/products/anxin/gates/charter")
    expect(pm.locator("#criteria")).to_be_visible()
    expect(pm.locator("#decide")).to_have_count(0)  # the form is the committee's
    token = pm.locator("input[name=csrftoken]").first.get_attribute("value") or ""
    forged = pm.request.post(
        "/console/products/anxin/gates/charter/decisions",
        form={"csrftoken": token, "decision": "go"},
    )
    assert "may not decide product gates" in forged.text()

    committee = person("committee1")
    committee.goto("/console/products/anxin/gates/charter")
    screenshot(committee, "gate")
    committee.select_option("#decision", "go")
    committee.fill("#note", "证据充分")
    committee.click("#submit-decision")
    expect(committee.locator("main")).to_contain_text("go: anxin v1 is research")
    expect(committee.locator("#product-state")).to_have_text("research")
