"""Personal data through the engine: sealed at rest, by id in the trail, masked on screen.

A copied database, backup or log must not tell who borrowed. The borrower here
has a distinctive name, ID and phone so that any copy of them in clear is found
by a plain substring search over every stored value.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlalchemy import inspect, text

from lendflow.access.permissions import Actor
from lendflow.domain.identity import sample_national_id
from lendflow.loans import applications, disbursement, repayments
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.workspace.context import Workspace

APPLIED = date(2026, 1, 10)
DECIDED = date(2026, 1, 11)
PAID_OUT = date(2026, 1, 12)

NAME = "欧阳娜娜"
NATIONAL_ID = sample_national_id(date(1988, 11, 23), 517)
PHONE = "13987654321"


def secrets_of_the_borrower() -> dict[str, str]:
    """The clear values, and the name as JSON writes it with ensure_ascii."""
    return {
        "name": NAME,
        "name (JSON-escaped)": json.dumps(NAME)[1:-1],
        "national ID": NATIONAL_ID,
        "phone": PHONE,
    }


def borrower() -> Application:
    return Application.parse(
        product="cash-easy",
        name=NAME,
        national_id=NATIONAL_ID,
        phone=PHONE,
        monthly_income="12000",
        amount="10000",
        term=6,
        consents="all",
    )


def second_product() -> Application:
    return replace(borrower(), product="sme-growth", amount=2_000_000)


def clear_values_at_rest(ws: Workspace) -> list[str]:
    """Every (table, what) where a raw row holds the borrower's data in clear."""
    found = []
    with ws.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            blob = "\n".join(str(value) for row in rows for value in row)
            found += [
                f"{table}: {what}" for what, v in secrets_of_the_borrower().items() if v in blob
            ]
    return found


def clear_values_in_files(home: Path) -> list[str]:
    """The same search over the raw bytes of every file in the workspace folder."""
    found = []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for what, value in secrets_of_the_borrower().items():
            if value.encode("utf-8") in data:
                found.append(f"{path.name}: {what}")
    return found


def lend_and_collect(ws: Workspace, clerk: Actor, risk: Actor) -> int:
    """Apply, decide, pay out and take a repayment, with `clerk` doing the money steps."""
    loan_id = applications.apply(ws, clerk, borrower(), APPLIED).id
    applications.start_review(ws, clerk, loan_id, APPLIED)
    applications.approve(ws, risk, loan_id, DECIDED)
    disbursement.disburse(ws, clerk, loan_id, PAID_OUT, idempotency_key="pay-1")
    repayments.repay(ws, clerk, loan_id, 50_000, date(2026, 2, 12), idempotency_key="tx-1")
    return loan_id


def test_no_table_or_file_holds_the_borrower_in_clear(
    ws: Workspace, ops: Actor, risk: Actor
) -> None:
    """Name, national ID and phone exist only sealed; lookups go through keyed hashes."""
    loan_id = lend_and_collect(ws, ops, risk)
    # The same borrower again, for another product: found by hash, still nothing in clear.
    again = applications.apply(ws, ops, second_product(), DECIDED)
    first = loan_views.show(ws, risk, loan_id, DECIDED).customer
    assert (first.id, first.national_id) == (again.customer.id, NATIONAL_ID)
    assert clear_values_at_rest(ws) == []
    assert clear_values_in_files(ws.settings.home) == []


def test_events_carry_the_customer_id_and_nothing_personal(
    ws: Workspace, ops: Actor, risk: Actor
) -> None:
    """The audit trail is kept for years and read widely: it names customers by id only."""
    loan_id = lend_and_collect(ws, ops, risk)
    customer_id = loan_views.show(ws, risk, loan_id, DECIDED).customer.id
    trail = loan_views.loan_events(ws, ops, loan_id)
    assert [e.name for e in trail][:5] == [
        "LoanSubmitted",
        "LoanReviewStarted",
        "LoanApproved",
        "LoanDisbursed",
        "RepaymentPosted",
    ]
    for event in trail:
        payload = json.loads(event.payload)
        assert payload["customer_id"] == customer_id
        assert not {"name", "national_id", "phone", "customer"} & set(payload), event.name
        for value in secrets_of_the_borrower().values():
            assert value not in event.payload, event.name


def test_operators_see_masked_details_and_risk_officers_see_them_in_clear(
    ws: Workspace, ops: Actor, risk: Actor, auditor: Actor
) -> None:
    """Only a role that must verify identity (risk) reads it; everyone else sees masks."""
    loan_id = lend_and_collect(ws, ops, risk)
    masked = {
        "name": "欧***",
        "national_id": f"{NATIONAL_ID[:6]}********{NATIONAL_ID[-4:]}",
        "phone": "139****4321",
    }
    clear = {"name": NAME, "national_id": NATIONAL_ID, "phone": PHONE}
    for actor, expected in ((ops, masked), (auditor, masked), (risk, clear)):
        customer = loan_views.show(ws, actor, loan_id, DECIDED).customer
        assert customer.model_dump(include=set(expected)) == expected, actor.name
        listed = loan_views.list_loans(ws, actor)
        assert [row.customer for row in listed] == [expected["name"]], actor.name
    applied = applications.apply(ws, ops, second_product(), DECIDED)
    assert applied.customer.phone == masked["phone"]
    for field in ("name", "national_id", "phone"):
        assert masked[field] != clear[field]


def test_an_admin_posting_money_leaves_nothing_in_clear_either(
    ws: Workspace, ops: Actor, risk: Actor
) -> None:
    """Who pressed the button must not decide whether the database is safe to copy."""
    admin = ws.actor("admin")
    loan_id = lend_and_collect(ws, admin, risk)
    assert clear_values_at_rest(ws) == []
    replay = repayments.repay(ws, ops, loan_id, 50_000, date(2026, 2, 12), idempotency_key="tx-1")
    assert replay.replayed
    assert replay.customer.national_id != NATIONAL_ID
