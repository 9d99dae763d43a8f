"""A loan's whole life through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans import views as loan_views


def test_full_life_closes_with_the_books_proven(ws, ops, risk, auditor, applicant) -> None:  # type: ignore[no-untyped-def]
    loan = applications.apply(ws, ops, applicant(), date(2026, 1, 10))
    assert loan.status == "submitted"
    loan_id = loan.id
    assert applications.start_review(ws, ops, loan_id, date(2026, 1, 10)).status == "under_review"
    assert applications.approve(ws, risk, loan_id, date(2026, 1, 11)).status == "approved"
    active = disbursement.disburse(ws, ops, loan_id, date(2026, 1, 12))
    assert active.status == "active"
    assert active.outstanding.principal == 1_000_000
    schedule = loan_views.schedule(ws, ops, loan_id)
    for row in schedule.instalments:
        view = repayments.repay(ws, ops, loan_id, row.total, row.due_date)
    assert view.status == "closed"
    assert view.outstanding.total == 0
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems
    names = [e.name for e in loan_views.loan_events(ws, ops, loan_id)]
    assert names[:4] == ["LoanSubmitted", "LoanReviewStarted", "LoanApproved", "LoanDisbursed"]
    assert names[-1] == "LoanClosed"
