"""`loan show`'s one read of a loan (a single statement on PostgreSQL) gives exactly what
the separate reads give: the loan, its schedule with dates as dates and flags as flags,
the borrower's sealed row and the credit decisions in order."""

from __future__ import annotations

from datetime import date

import pytest

from lendflow.domain.errors import NotFound
from lendflow.loans import applications, disbursement, repayments


def test_one_read_of_a_loan_equals_its_separate_reads(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan = applications.apply(ws, ops, applicant(amount="6000", term=3), date(2026, 1, 10))
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan.id, date(2026, 1, 12))
    repayments.repay(ws, ops, loan.id, 210_000, date(2026, 2, 12), "first")
    reader = ws.reader()
    try:
        found, rows, customer, decisions = reader.loan_view(loan.id)
        assert found == reader.loan(loan.id)
        assert rows == reader.instalments(loan.id)
        assert customer == reader.customer(found["customer_id"])
        assert decisions == reader.decisions(loan.id) and decisions
        assert [r["n"] for r in rows][-3:] == [1, 2, 3]
        first, last = rows[-3], rows[-1]
        assert first["due_date"] == date(2026, 2, 12) and first["paid_on"] == date(2026, 2, 12)
        assert first["recognised"] is True and last["recognised"] is False
        with pytest.raises(NotFound, match="loan 999999 does not exist"):
            reader.loan_view(999_999)
    finally:
        reader.close()
