"""Applications through the engine: who may apply for what, and how a decision moves.

Every refusal is checked twice: for the message staff will read, and for leaving
the books exactly as they were (no customer, loan, event or version change).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lendflow.access.permissions import Actor
from lendflow.config.product_spec import example_product_paths
from lendflow.domain.errors import BadInput, NotFound, Refused
from lendflow.domain.identity import sample_national_id
from lendflow.loans import applications, disbursement
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.store.tables import customers, events, journal_entries, loans, payouts
from lendflow.workspace.context import Workspace

Applicant = Callable[..., Application]
OPENING_DAY = date(2026, 1, 5)
APPLIED = date(2026, 1, 10)
DECIDED = date(2026, 1, 11)


def footprint(ws: Workspace) -> dict[str, Any]:
    """Everything a refused use case must leave alone: loans, customers, counts."""
    with ws.engine.connect() as conn:
        return {
            "loans": conn.execute(
                select(
                    loans.c.id,
                    loans.c.state,
                    loans.c.version,
                    loans.c.approved_amount,
                    loans.c.reason_code,
                ).order_by(loans.c.id)
            ).all(),
            "customers": conn.execute(
                select(customers.c.id, customers.c.monthly_income, customers.c.phone_hash).order_by(
                    customers.c.id
                )
            ).all(),
            "events": conn.execute(select(func.count()).select_from(events)).scalar_one(),
            "journal": conn.execute(select(func.count()).select_from(journal_entries)).scalar_one(),
            "payouts": conn.execute(select(func.count()).select_from(payouts)).scalar_one(),
        }


def refused_quietly(
    ws: Workspace, error: type[Exception], message: str, call: Callable[[], object]
) -> None:
    """`call` raises `error` whose text contains `message`, and changes nothing."""
    before = footprint(ws)
    with pytest.raises(error, match=re.escape(message)):
        call()
    assert footprint(ws) == before, f"a refused call ({message}) changed the store"


def under_review(ws: Workspace, ops: Actor, application: Application) -> int:
    loan_id = applications.apply(ws, ops, application, APPLIED).id
    applications.start_review(ws, ops, loan_id, APPLIED)
    return loan_id


def test_unknown_and_unlaunched_products_take_no_applications(
    ws: Workspace, ops: Actor, applicant: Applicant, tmp_path: Path
) -> None:
    """Staff must hear which product is wrong, not get a loan on a draft product."""
    admin = ws.actor("admin")
    cash_easy = next(p for p in example_product_paths() if p.name == "cash-easy.yaml")
    draft = tmp_path / "cash-draft.yaml"
    draft.write_text(
        cash_easy.read_text(encoding="utf-8").replace("code: cash-easy", "code: cash-draft"),
        encoding="utf-8",
    )
    products.import_product(ws, admin, draft, activate=False, as_of=OPENING_DAY)

    refused_quietly(
        ws,
        NotFound,
        "product 'no-such-loan' does not exist",
        lambda: applications.apply(ws, ops, applicant(product="no-such-loan"), APPLIED),
    )
    refused_quietly(
        ws,
        Refused,
        "product cash-draft has no live version; it does not take applications",
        lambda: applications.apply(ws, ops, applicant(product="cash-draft"), APPLIED),
    )


def test_terms_the_product_does_not_offer_are_refused_by_rule(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """Amount range and step, term, purpose and age limits of cash-easy (20-55)."""
    cases: list[tuple[Application, str]] = [
        (applicant(amount="999"), "amount 999.00 is outside cash-easy's range 1000.00 to 50000.00"),
        (applicant(amount="50100"), "amount 50100.00 is outside cash-easy's range"),
        (applicant(amount="1050"), "amount must be in steps of 100.00 above 1000.00"),
        (applicant(amount="5000.50"), "amount must be in steps of 100.00 above 1000.00"),
        (applicant(term=24), "term 24 is not offered by cash-easy (allowed: 3, 6, 9, 12)"),
        (
            replace(applicant(), purpose="gambling"),
            "purpose 'gambling' is not offered by cash-easy",
        ),
        (applicant(born=date(2006, 1, 11)), "applicant is 19; cash-easy lends from 20 to 55"),
        (applicant(born=date(1970, 1, 10)), "applicant is 56; cash-easy lends from 20 to 55"),
    ]
    for application, message in cases:
        refused_quietly(
            ws, Refused, message, lambda a=application: applications.apply(ws, ops, a, APPLIED)
        )


def test_the_edges_of_the_product_are_inside_it(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """Age 20 on the birthday, age 55 the day before turning 56, min and max amounts."""
    youngest = applications.apply(
        ws, ops, applicant(born=date(2006, 1, 10), amount="1000", term=3), APPLIED
    )
    oldest = applications.apply(
        ws, ops, applicant(born=date(1970, 1, 11), amount="50000", term=12), APPLIED
    )
    assert (youngest.status, youngest.requested, youngest.term) == ("submitted", 100_000, 3)
    assert (oldest.status, oldest.requested, oldest.term) == ("submitted", 5_000_000, 12)


def test_one_open_application_per_product_and_one_name_per_national_id(
    ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant
) -> None:
    """A duplicate application or an impostor's name must not create a second exposure."""
    first = applications.apply(ws, ops, applicant(serial=7), APPLIED)
    refused_quietly(
        ws,
        Refused,
        f"customer already has an open application for cash-easy (loan {first.id})",
        lambda: applications.apply(ws, ops, applicant(serial=7, amount="2000"), APPLIED),
    )
    refused_quietly(
        ws,
        Refused,
        "the name does not match the customer on file for this national ID",
        lambda: applications.apply(
            ws, ops, applicant(serial=7, name="李四", product="sme-growth", amount="20000"), APPLIED
        ),
    )
    # Another product is fine, and so is the same product once the first is decided.
    other = applications.apply(
        ws, ops, applicant(serial=7, product="sme-growth", amount="20000"), APPLIED
    )
    assert other.customer.id == first.customer.id
    applications.start_review(ws, ops, first.id, APPLIED)
    applications.reject(ws, risk, first.id, DECIDED, "DTI_TOO_HIGH")
    again = applications.apply(ws, ops, applicant(serial=7, amount="2000"), DECIDED)
    assert again.status == "submitted"
    assert again.customer.id == first.customer.id


def test_single_borrower_cap_counts_every_open_application(
    ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant
) -> None:
    """Policy caps one borrower at 200,000.00 across products (without net assets named, the
    fixed cap; for consumer loans also the kind's ceiling); exactly the cap is allowed."""
    big = applications.apply(
        ws, ops, applicant(serial=21, product="sme-growth", amount="200000", term=12), APPLIED
    )
    refused_quietly(
        ws,
        Refused,
        "refused by rule KIND_CEILING: exposure 201000.00 would pass the ceiling of"
        " 200000.00 per borrower for consumer loans",
        lambda: applications.apply(ws, ops, applicant(serial=21, amount="1000"), APPLIED),
    )
    applications.apply(
        ws, ops, applicant(serial=22, product="sme-growth", amount="150000"), APPLIED
    )
    at_cap = applications.apply(ws, ops, applicant(serial=22, amount="50000"), APPLIED)
    assert at_cap.status == "submitted"
    # A declined application no longer counts against the borrower.
    applications.start_review(ws, ops, big.id, APPLIED)
    applications.reject(ws, risk, big.id, DECIDED, "EXPOSURE")
    assert applications.apply(ws, ops, applicant(serial=21), DECIDED).status == "submitted"


def test_malformed_national_id_and_phone_are_bad_input_without_echoing_them(
    applicant: Applicant,
) -> None:
    """Input errors (exit 2) must name the problem but never repeat personal data into logs."""
    good = sample_national_id(date(1990, 5, 17), 42)
    wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    cases = {
        wrong_check: "national ID checksum does not match",
        good[:-1]: "national ID must have 18 characters, got 17",
        "110105199013321234": "national ID has an impossible birth date 19901332",
        "11010519900517A23X": "national ID may contain only digits and a final X",
    }
    for national_id, message in cases.items():
        with pytest.raises(BadInput, match=re.escape(message)) as caught:
            Application.parse(
                product="cash-easy",
                name="张三",
                national_id=national_id,
                phone="13812345678",
                monthly_income="8000",
                amount="10000",
                term=6,
                consents="all",
            )
        assert national_id not in str(caught.value)
    for phone in ("12812345678", "1381234567", "138123456789", "138-abcd-5678"):
        with pytest.raises(BadInput, match="phone must be a mainland mobile number") as caught:
            applicant(phone=phone)
        assert phone not in str(caught.value)
    assert applicant(phone="+86 138-1234-5678").phone == "13812345678"


def test_illegal_moves_are_refused_with_the_state_they_need(
    ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant
) -> None:
    """The loan machine, not the caller, decides which step may follow which."""
    submitted = applications.apply(ws, ops, applicant(), APPLIED).id
    refusals: list[tuple[str, Callable[[], object]]] = [
        (
            f"loan {submitted} is submitted; disburse needs approved",
            lambda: disbursement.disburse(ws, ops, submitted, DECIDED),
        ),
        (
            f"loan {submitted} is submitted; approve needs under_review",
            lambda: applications.approve(ws, risk, submitted, DECIDED),
        ),
        (
            f"loan {submitted} is submitted; reject needs under_review",
            lambda: applications.reject(ws, risk, submitted, DECIDED, "DTI_TOO_HIGH"),
        ),
    ]
    reviewing = under_review(ws, ops, applicant())
    refusals += [
        (
            f"loan {reviewing} is under_review; start_review needs submitted",
            lambda: applications.start_review(ws, ops, reviewing, DECIDED),
        ),
        (
            f"loan {reviewing} is under_review; disburse needs approved",
            lambda: disbursement.disburse(ws, ops, reviewing, DECIDED),
        ),
    ]
    approved = under_review(ws, ops, applicant())
    applications.approve(ws, risk, approved, DECIDED)
    refusals += [
        (
            f"loan {approved} is approved; approve needs under_review",
            lambda: applications.approve(ws, risk, approved, DECIDED),
        ),
        (
            f"loan {approved} is approved; reject needs under_review",
            lambda: applications.reject(ws, risk, approved, DECIDED, "LATE"),
        ),
    ]
    rejected = under_review(ws, ops, applicant())
    applications.reject(ws, risk, rejected, DECIDED, "DTI_TOO_HIGH")
    refusals += [
        (
            f"loan {rejected} is rejected; withdraw needs submitted or under_review or approved",
            lambda: applications.withdraw(ws, ops, rejected, DECIDED),
        ),
        (
            f"loan {rejected} is rejected; approve needs under_review",
            lambda: applications.approve(ws, risk, rejected, DECIDED),
        ),
    ]
    for message, call in refusals:
        refused_quietly(ws, Refused, message, call)


def test_an_applicant_may_withdraw_until_the_money_is_paid(
    ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant
) -> None:
    """Withdrawal is allowed from submitted, under review and approved, and is final."""
    submitted = applications.apply(ws, ops, applicant(), APPLIED).id
    reviewing = under_review(ws, ops, applicant())
    approved = under_review(ws, ops, applicant())
    applications.approve(ws, risk, approved, DECIDED)
    for loan_id in (submitted, reviewing, approved):
        view = applications.withdraw(ws, ops, loan_id, DECIDED, note="changed my mind")
        assert view.status == "withdrawn"
        assert loan_views.loan_events(ws, ops, loan_id)[-1].name == "LoanWithdrawn"
    refused_quietly(
        ws,
        Refused,
        f"loan {submitted} is withdrawn; start_review needs submitted",
        lambda: applications.start_review(ws, ops, submitted, DECIDED),
    )


def test_approval_amount_and_rejection_reason_rules(
    ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant
) -> None:
    """Never lend more than asked; a smaller approval is recorded; a decline needs a code."""
    loan_id = under_review(ws, ops, applicant(amount="10000"))
    guard = "approved amount must be more than zero and no more than the amount requested"
    for too_much in (1_000_001, 0):
        refused_quietly(
            ws,
            Refused,
            f"loan {loan_id}: cannot approve: {guard}",
            lambda a=too_much: applications.approve(ws, risk, loan_id, DECIDED, amount=a),
        )
    view = applications.approve(ws, risk, loan_id, DECIDED, amount=800_000, note="income")
    assert (view.status, view.requested, view.approved) == ("approved", 1_000_000, 800_000)
    assert view.principal == 800_000
    assert view.decided_on == DECIDED
    assert view.approval_expires_on == date(2026, 2, 10)  # cash-easy: valid 30 days
    approved_event = loan_views.loan_events(ws, ops, loan_id)[-1]
    assert approved_event.name == "LoanApproved"
    assert '"approved_amount":800000' in approved_event.payload

    declined = under_review(ws, ops, applicant())
    for bad_code in ("", "two words", "1STARTS_WITH_DIGIT"):
        refused_quietly(
            ws,
            BadInput,
            "reason code must be a short code like DTI_TOO_HIGH",
            lambda c=bad_code: applications.reject(ws, risk, declined, DECIDED, c),
        )
    view = applications.reject(ws, risk, declined, DECIDED, "DTI_TOO_HIGH")
    assert (view.status, view.reason_code) == ("rejected", "DTI_TOO_HIGH")


def test_each_role_does_only_its_own_job(
    ws: Workspace, ops: Actor, risk: Actor, auditor: Actor, applicant: Applicant
) -> None:
    """Separation of duties: operators take and pay out, risk decides, auditors read."""
    reviewing = under_review(ws, ops, applicant())
    approved = under_review(ws, ops, applicant())
    applications.approve(ws, risk, approved, DECIDED)
    cases: list[tuple[str, Callable[[], object]]] = [
        (
            "user ops (operator) may not approve loans",
            lambda: applications.approve(ws, ops, reviewing, DECIDED),
        ),
        (
            "user ops (operator) may not reject loans",
            lambda: applications.reject(ws, ops, reviewing, DECIDED, "DTI_TOO_HIGH"),
        ),
        (
            "user auditor (auditor) may not take applications",
            lambda: applications.apply(ws, auditor, applicant(), APPLIED),
        ),
        (
            "user auditor (auditor) may not approve loans",
            lambda: applications.approve(ws, auditor, reviewing, DECIDED),
        ),
        (
            "user risk (risk_officer) may not disburse loans",
            lambda: disbursement.disburse(ws, risk, approved, DECIDED),
        ),
        (
            "user risk (risk_officer) may not take applications",
            lambda: applications.apply(ws, risk, applicant(), APPLIED),
        ),
        (
            "user risk (risk_officer) may not withdraw applications",
            lambda: applications.withdraw(ws, risk, reviewing, DECIDED),
        ),
    ]
    for message, call in cases:
        refused_quietly(ws, Refused, message, call)


def test_a_business_date_before_the_application_is_bad_input(
    ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant
) -> None:
    """Back-dating a decision before the application would falsify the trail."""
    loan_id = applications.apply(ws, ops, applicant(), APPLIED).id
    message = f"business date 2026-01-09 is before loan {loan_id} was applied for (2026-01-10)"
    early = date(2026, 1, 9)
    refused_quietly(
        ws, BadInput, message, lambda: applications.start_review(ws, ops, loan_id, early)
    )
    refused_quietly(ws, BadInput, message, lambda: applications.withdraw(ws, ops, loan_id, early))
    applications.start_review(ws, ops, loan_id, APPLIED)
    refused_quietly(ws, BadInput, message, lambda: applications.approve(ws, risk, loan_id, early))
    refused_quietly(
        ws, BadInput, message, lambda: applications.reject(ws, risk, loan_id, early, "LATE")
    )
    # The same day as the application is fine.
    assert applications.approve(ws, risk, loan_id, APPLIED).status == "approved"


def test_an_approval_must_be_an_amount_the_product_offers(
    ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant
) -> None:
    """cash-easy lends 1,000.00-50,000.00 in steps of 100.00; an approval is a loan offer."""
    below_minimum = under_review(ws, ops, applicant(amount="10000"))
    with pytest.raises(Refused):
        applications.approve(ws, risk, below_minimum, DECIDED, amount=50_000)  # 500.00
    off_step = under_review(ws, ops, applicant(amount="10000"))
    with pytest.raises(Refused):
        applications.approve(ws, risk, off_step, DECIDED, amount=512_345)  # 5,123.45
