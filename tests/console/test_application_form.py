"""Entering an application in the console: the form, its field-by-field checks, and the
new loan's page where its review starts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lendflow.loans.views import page_loans
from lendflow.workspace.context import Workspace
from tests.console.console_helpers import Staff
from tests.web.api_helpers import application


def typed(**changes: Any) -> dict[str, Any]:
    """What an operator types for a new applicant (each call a new person): the API
    tests' valid application, as the form's fields."""
    body = application()
    form = {name: str(body[name]) for name in ("product", "name", "phone", "amount", "term")}
    form |= {"national_id": body["id_number"], "monthly_income": body["monthly_income"]}
    form |= {"monthly_debt": "", "purpose": "", "employment": "salaried", "referrer": ""}
    form |= {"consents": ["personal_information", "sensitive_personal_information", "credit_check"]}
    return {**form, **changes}


def field_error(page: Any, field: str) -> str:
    """The error shown beside a field ('' when there is none)."""
    found = re.search(rf'id="err-{field}" data-field="{field}">([^<]*)<', page.text)
    return found.group(1) if found else ""


def loans_in(ws: Workspace) -> int:
    return page_loans(ws, ws.actor("admin"), limit=1).total


def test_the_form_offers_the_live_products_and_labels_every_field(
    browser: Callable[..., Staff],
) -> None:
    page = browser("ops").get("/console/applications/new")
    assert page.status_code == 200
    assert '<option value="cash-easy"' in page.text and '<option value="sme-growth"' in page.text
    assert "<title>新申请 · lendflow</title>" in page.text
    assert page.text.count("<h1>") == 1
    inputs = re.findall(r'<(?:input|select)[^>]*\bid="(f-[a-z_]+)"', page.text)
    assert len(inputs) == 11
    for input_id in inputs:
        assert f'<label for="{input_id}">' in page.text, input_id


def test_an_operator_enters_an_application_and_lands_on_the_new_loan_to_review_it(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    ops = browser("ops")
    ops.get("/console/applications/new")
    answer = ops.post("/console/applications", typed(purpose="education"))
    assert answer.status_code == 303
    loan_id = int(re.fullmatch(r"/console/loans/(\d+)\?.*", answer.headers["location"]).group(1))
    page = ops.follow(answer)
    assert 'id="loan-state">submitted<' in page.text
    assert f"application taken: loan {loan_id} is submitted" in page.text
    assert 'id="action-review"' in page.text
    assert 'id="customer-name">张*<' in page.text  # an operator sees the borrower masked
    reviewed = ops.follow(ops.post(f"/console/loans/{loan_id}/review"))
    assert 'id="loan-state">under_review<' in reviewed.text
    detail = console_ws.reader().loan(loan_id)
    assert (detail["requested_amount"], detail["term"], detail["purpose"]) == (
        1_000_000,
        6,
        "education",
    )


def test_every_wrong_field_is_shown_beside_it_and_what_was_typed_stays(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    ops = browser("ops")
    ops.get("/console/applications/new")
    before = loans_in(console_ws)
    form = typed(
        national_id="110105199005170000",
        phone="12345",
        amount="10000.123",
        term="six",
        name="王五",
        monthly_income="",
    )
    page = ops.post("/console/applications", form)
    assert page.status_code == 422
    assert "national ID" in field_error(page, "national_id")
    assert "phone" in field_error(page, "phone")
    assert field_error(page, "amount") == "amount has more than two decimal places: 10000.123"
    assert "term must be a whole number" in field_error(page, "term")
    assert field_error(page, "monthly_income") == "monthly income is missing"
    assert field_error(page, "name") == "" and field_error(page, "product") == ""
    assert 'value="王五"' in page.text and 'value="10000.123"' in page.text
    assert 'aria-invalid="true" aria-describedby="err-phone"' in page.text
    assert loans_in(console_ws) == before


def test_a_product_term_the_application_breaks_is_shown_beside_its_field(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    ops = browser("ops")
    ops.get("/console/applications/new")
    before = loans_in(console_ws)
    too_much = ops.post("/console/applications", typed(amount="90000.00"))
    assert too_much.status_code == 422
    assert field_error(too_much, "amount") == (
        "amount 90000.00 is outside cash-easy's range 1000.00 to 50000.00"
    )
    odd_term = ops.post("/console/applications", typed(term="5"))
    assert "term 5 is not offered by cash-easy" in field_error(odd_term, "term")
    unknown = ops.post("/console/applications", typed(product="no-such-product"))
    assert field_error(unknown, "product") == "product 'no-such-product' does not take applications"
    assert loans_in(console_ws) == before


def test_a_rule_about_the_applicant_as_a_whole_is_shown_above_the_form(
    browser: Callable[..., Staff],
) -> None:
    ops = browser("ops")
    ops.get("/console/applications/new")
    first = typed()
    assert ops.post("/console/applications", first).status_code == 303
    ops.get("/console/applications/new")
    again = ops.post("/console/applications", {**first, "amount": "2000.00"})
    assert again.status_code == 409
    assert "customer already has an open application for cash-easy" in again.text
    assert 'value="2000.00"' in again.text


def test_only_roles_that_take_applications_see_the_form_and_its_link(
    browser: Callable[..., Staff],
) -> None:
    risk = browser("risk")
    assert risk.get("/console/applications/new").status_code == 403
    assert 'id="new-application"' not in risk.get("/console").text
    assert 'id="new-application"' not in risk.get("/console/loans").text
    refused = risk.post("/console/applications", typed())
    assert refused.status_code == 403
    ops = browser("ops")
    assert 'href="/console/applications/new"' in ops.get("/console").text
    assert 'href="/console/applications/new"' in ops.get("/console/loans").text


def test_an_application_without_the_personal_information_consents_is_shown_at_them(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    ops = browser("ops")
    page = ops.get("/console/applications/new")
    assert 'id="c-sensitive_personal_information"' in page.text
    before = loans_in(console_ws)
    answer = ops.post("/console/applications", typed(consents=["credit_check"]))
    assert answer.status_code == 422
    assert "CONSENT_REQUIRED" in field_error(answer, "consents")
    assert 'id="c-credit_check" name="consents" value="credit_check" checked' in answer.text
    assert loans_in(console_ws) == before
