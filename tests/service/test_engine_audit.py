"""`audit verify` through the engine: a clean busy day proves, and every tamper is named.

Tampering is done the way an intruder or a careless DBA would: raw SQL through
the workspace's engine, bypassing every service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Conflict, Refused
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.store.tables import events, journal_entries, journal_lines, loans
from lendflow.workspace.context import Workspace
from lendflow.workspace.payments import GatewayError, SandboxGateway

Applicant = Callable[..., Application]
APPLIED = date(2026, 1, 10)
DECIDED = date(2026, 1, 11)
PAID_OUT = date(2026, 1, 12)


def approved_loan(ws: Workspace, applicant: Applicant, **terms: Any) -> int:
    ops, risk = ws.actor("ops"), ws.actor("risk")
    loan_id = applications.apply(ws, ops, applicant(**terms), APPLIED).id
    applications.start_review(ws, ops, loan_id, APPLIED)
    applications.approve(ws, risk, loan_id, DECIDED)
    return loan_id


def active_loan(ws: Workspace, applicant: Applicant, **terms: Any) -> int:
    loan_id = approved_loan(ws, applicant, **terms)
    disbursement.disburse(ws, ws.actor("ops"), loan_id, PAID_OUT)
    return loan_id


def tamper(ws: Workspace, sql: str, **params: Any) -> None:
    """Change the database behind the engine's back, in its own committed transaction."""
    with ws.engine.begin() as conn:
        assert conn.execute(text(sql), params).rowcount == 1


def test_a_busy_day_through_every_path_proves(
    ws: Workspace, ops: Actor, risk: Actor, auditor: Actor, applicant: Applicant
) -> None:
    """Payoffs, prepayments, fees, declines, replays and rejections all leave provable books."""
    gateway = ws.gateway
    assert isinstance(gateway, SandboxGateway)

    paid_off = active_loan(ws, applicant)
    first = loan_views.schedule(ws, ops, paid_off).instalments[0]
    repayments.repay(ws, ops, paid_off, first.total, date(2026, 2, 12))
    quote = repayments.quote(ws, ops, paid_off, date(2026, 3, 1))
    closed = repayments.repay(ws, ops, paid_off, quote.total + 5_000, date(2026, 3, 1))
    assert (closed.status, closed.credit_balance) == ("closed", 5_000)

    sme = active_loan(ws, applicant, product="sme-growth", amount="100000", term=12)
    repayments.repay(ws, ops, sme, 150_000, date(2026, 2, 12))  # fee, then part of interest

    prepaid = active_loan(ws, applicant, amount="20000", term=12)
    repayments.repay(ws, ops, prepaid, 500_000, date(2026, 1, 20), idempotency_key="tx-9")
    repayments.repay(ws, ops, prepaid, 500_000, date(2026, 1, 20), idempotency_key="tx-9")
    with pytest.raises(Conflict):
        repayments.repay(ws, ops, prepaid, 400_000, date(2026, 1, 20), idempotency_key="tx-9")

    declined_once = approved_loan(ws, applicant, amount="3000", term=3)
    gateway.fail_next = 1
    with pytest.raises(GatewayError):
        disbursement.disburse(ws, ops, declined_once, PAID_OUT)
    disbursement.disburse(ws, ops, declined_once, PAID_OUT)

    withdrawn = approved_loan(ws, applicant)
    applications.withdraw(ws, ops, withdrawn, DECIDED)
    reviewing = applications.apply(ws, ops, applicant(), APPLIED).id
    applications.start_review(ws, ops, reviewing, APPLIED)
    applications.reject(ws, risk, reviewing, DECIDED, "DTI_TOO_HIGH")
    applications.apply(ws, ops, applicant(), DECIDED)  # still waiting

    report = audit.verify(ws, auditor)
    assert report.ok, report.problems
    with ws.engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
        logged = conn.execute(select(func.count()).select_from(events)).scalar_one()
    assert report.as_dict() == {
        "ok": True,
        "loans_checked": 7,
        "journal_entries_checked": entries,
        "events_checked": logged,
        "anchors_checked": 0,
        "documents_checked": 4,
        "problems": [],
    }
    assert entries >= 10
    assert audit.verify(ws, ws.actor("admin")).ok


def test_an_edited_or_deleted_event_breaks_the_chain_at_that_event(
    ws: Workspace, ops: Actor, auditor: Actor, applicant: Applicant
) -> None:
    """Nobody may quietly rewrite who approved what: the hash chain names the event."""
    loan_id = active_loan(ws, applicant)
    trail = loan_views.loan_events(ws, ops, loan_id)
    approved = next(e for e in trail if e.name == "LoanApproved")
    original = approved.payload
    assert '"approved_amount":1000000' in original

    forged = original.replace('"approved_amount":1000000', '"approved_amount":900000')
    tamper(ws, "UPDATE events SET payload = :p WHERE id = :id", p=forged, id=approved.id)
    report = audit.verify(ws, auditor)
    assert report.problems == [f"event {approved.id}: content does not match its hash (altered)"]

    tamper(ws, "UPDATE events SET payload = :p WHERE id = :id", p=original, id=approved.id)
    assert audit.verify(ws, auditor).ok

    ids = [e.id for e in trail]
    reviewed = ids[ids.index(approved.id) - 1]
    tamper(ws, "DELETE FROM events WHERE id = :id", id=approved.id)
    report = audit.verify(ws, auditor)
    assert report.problems == [
        f"event {ids[ids.index(approved.id) + 1]}: does not follow event {reviewed} (chain broken)"
    ]


def test_a_changed_loan_balance_is_named_with_what_the_journal_says(
    ws: Workspace, ops: Actor, auditor: Actor, applicant: Applicant
) -> None:
    """Balances on the loan row are a cache of the ledger; any drift is a finding."""
    loan_id = active_loan(ws, applicant)
    other = active_loan(ws, applicant)
    tamper(
        ws,
        "UPDATE loans SET principal_outstanding = principal_outstanding - 100000 WHERE id = :id",
        id=loan_id,
    )
    report = audit.verify(ws, auditor)
    assert report.problems == [
        f"loan {loan_id}: principal_outstanding is 9000.00 but the journal says 10000.00"
    ]
    assert all(f"loan {other}:" not in p for p in report.problems)

    tamper(
        ws,
        "UPDATE instalments SET principal_paid = 50000 WHERE loan_id = :id AND n = 1",
        id=other,
    )
    problems = audit.verify(ws, auditor).problems
    assert (
        f"loan {other}: instalments show 500.00 principal repaid but the journal shows 0.00"
        in problems
    )
    assert len(problems) == 2


def test_a_deleted_journal_line_is_reported_as_an_unbalanced_entry(
    ws: Workspace, ops: Actor, auditor: Actor, applicant: Applicant
) -> None:
    """Double entry means one missing line can never hide."""
    loan_id = active_loan(ws, applicant)
    with ws.engine.connect() as conn:
        entry_id, line_id = conn.execute(
            select(journal_entries.c.id, journal_lines.c.id)
            .join(journal_lines, journal_lines.c.entry_id == journal_entries.c.id)
            .where(
                journal_entries.c.loan_id == loan_id,
                journal_entries.c.kind == "disbursement",
                journal_lines.c.account == "cash",
            )
        ).one()
    tamper(ws, "DELETE FROM journal_lines WHERE id = :id", id=line_id)
    problems = audit.verify(ws, auditor).problems
    assert f"journal entry {entry_id}: debits 1000000 != credits 0" in problems
    assert "journal: total debits 1000000 != total credits 0" in problems


def test_only_auditors_and_admins_may_run_the_audit(
    ws: Workspace, ops: Actor, risk: Actor, auditor: Actor
) -> None:
    """The audit reads everything, so it is a privilege, not a report for everyone."""
    for name, role in (("ops", "operator"), ("risk", "risk_officer"), ("pm", "product_manager")):
        with pytest.raises(Refused, match=rf"user {name} \({role}\) may not run the audit"):
            audit.verify(ws, ws.actor(name))
    assert audit.verify(ws, auditor).ok
    assert audit.verify(ws, ws.actor("admin")).ok
    with ws.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(loans)).scalar_one() == 0
