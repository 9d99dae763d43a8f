"""Close of business, day by day, against figures worked out by hand.

cash-easy: 10,000.00 over 3 months at 15.60%, disbursed 2026-01-12; instalments
due 12 Feb (3,290.37 principal + 130.00 interest + 10.00 fee), 12 Mar
(3,333.14 + 87.23 + 10.00) and 12 Apr (3,376.49 + 43.89 + 10.00). Grace 3 days,
arrears tolerance 10.00, penalty 24% a year / 360 on overdue principal, each
instalment's penalty rounded half up each day.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lendflow.close_of_business import sweep as cob
from lendflow.close_of_business.results import SweepCounts
from lendflow.config.cob import load_cob_config
from lendflow.documents import issuing as documents
from lendflow.domain.errors import BadInput
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.store.tables import loans, notices

CONFIG = load_cob_config()
DAY = timedelta(days=1)


def open_loan(ws, ops, risk, applicant) -> int:  # type: ignore[no-untyped-def]
    loan = applications.apply(ws, ops, applicant(amount="10000", term=3), date(2026, 1, 10))
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan.id, date(2026, 1, 12))
    return loan.id


def close(ws, d: date, last: date | None = None) -> SweepCounts:  # type: ignore[no-untyped-def]
    return cob.close_range(ws, 1, 10_000, d, last or d, "cob", CONFIG)


def status(ws, loan_id: int) -> tuple[str, int, str, str, int]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        row = c.execute(
            select(
                loans.c.state,
                loans.c.dpd,
                loans.c.bucket,
                loans.c.classification,
                loans.c.penalty_receivable,
            ).where(loans.c.id == loan_id)
        ).one()
    return tuple(row)  # type: ignore[return-value]


def test_missed_instalment_then_paid_late(ws, ops, risk, auditor, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    expected = {
        date(2026, 2, 12): ("active", 0, "M0", "normal", 0),
        date(2026, 2, 13): ("active", 0, "M0", "normal", 0),  # 1 day late: within grace
        date(2026, 2, 15): ("active", 0, "M0", "normal", 0),  # 3 days late: still grace
        date(2026, 2, 16): ("overdue", 4, "M1", "special_mention", 219),  # 3,290.37 x 24%/360
        date(2026, 2, 17): ("overdue", 5, "M1", "special_mention", 438),
        date(2026, 2, 18): ("overdue", 6, "M1", "special_mention", 657),
        date(2026, 2, 19): ("overdue", 7, "M1", "special_mention", 876),
    }
    d = date(2026, 2, 12)
    while d <= date(2026, 2, 19):
        close(ws, d)
        if d in expected:
            assert status(ws, loan_id) == expected[d], d
        d += DAY
    with ws.engine.connect() as c:
        sent = c.execute(
            select(notices.c.business_date, notices.c.dpd).where(notices.c.loan_id == loan_id)
        ).all()
    # reminders at 1 and 7 days late: the first while the grace period still runs
    assert sorted(tuple(r) for r in sent) == [(date(2026, 2, 13), 1), (date(2026, 2, 19), 7)]
    # each rendered through the documents module and kept as issued, with its SHA-256
    with ws.engine.connect() as c:
        hashes = (
            c.execute(
                select(notices.c.document_sha256)
                .where(notices.c.loan_id == loan_id)
                .order_by(notices.c.dpd)
            )
            .scalars()
            .all()
        )
    kept = [d for d in documents.list_documents(ws, risk, loan_id) if d.kind == "overdue-notice"]
    assert [d.sha256 for d in kept] == hashes and all(hashes)
    _, week_late = documents.stored_content(ws, risk, kept[1].id)
    assert hashlib.sha256(week_late).hexdigest() == hashes[1]
    text = week_late.decode("utf-8")
    assert f"LF-C-{loan_id:08d}" in text and "8.76" in text  # the week's penalty so far
    # Paid late on the 20th: penalty 8.76 first, then fee, interest, principal.
    paid = repayments.repay(ws, ops, loan_id, 343037 + 876, date(2026, 2, 20), "late-1")
    assert paid.status == "active"
    assert paid.outstanding.penalty == 0
    counts = close(ws, date(2026, 2, 20))
    assert status(ws, loan_id) == ("active", 0, "M0", "normal", 0)
    assert counts.penalty_accrued == 0
    assert audit.verify(ws, auditor).ok


def test_a_loan_never_paid_ages_to_write_off(ws, ops, risk, auditor, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    checkpoints = {
        date(2026, 3, 13): ("overdue", 29, "M1", "special_mention"),
        date(2026, 5, 13): ("overdue", 90, "M3", "special_mention"),
        date(2026, 5, 14): ("overdue", 91, "M3+", "substandard"),
        date(2026, 11, 9): ("overdue", 270, "M3+", "substandard"),
        date(2026, 11, 10): ("overdue", 271, "M3+", "doubtful"),
        date(2027, 2, 7): ("overdue", 360, "M3+", "doubtful"),  # loss is *over* 360
        date(2027, 2, 8): ("written_off", 361, "M3+", "loss"),
    }
    previous = date(2026, 1, 12)
    for d, (state, dpd, bucket, klass) in checkpoints.items():
        close(ws, previous + DAY, d)  # a range closes exactly as its days would
        assert status(ws, loan_id)[:4] == (state, dpd, bucket, klass), d
        previous = d
    with ws.engine.connect() as c:
        row = c.execute(select(loans).where(loans.c.id == loan_id)).mappings().one()
    assert row["principal_outstanding"] == 0 and row["written_off_amount"] == 1_000_000
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems
    recovery = repayments.repay(ws, ops, loan_id, 50_000, date(2027, 3, 1), "recovery-1")
    assert recovery.status == "written_off"


def test_penalty_grows_as_each_instalment_falls_overdue(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 2, 12), date(2026, 3, 12))
    before = status(ws, loan_id)[4]
    close(ws, date(2026, 3, 13))
    # 3,290.37 -> 2.19 and 3,333.14 -> 2.22 (each rounded on its own)
    assert status(ws, loan_id)[4] - before == 219 + 222
    close(ws, date(2026, 4, 13))
    after = status(ws, loan_id)[4]
    close(ws, date(2026, 4, 14))
    assert status(ws, loan_id)[4] - after == 219 + 222 + 225  # 3,376.49 -> 2.25


def test_rerunning_a_date_changes_nothing(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 2, 12), date(2026, 2, 25))
    first = status(ws, loan_id)
    with ws.engine.connect() as c:
        version = c.execute(select(loans.c.version).where(loans.c.id == loan_id)).scalar_one()
    again = close(ws, date(2026, 2, 25))
    assert again.penalty_accrued == 0 and again.loans_scanned == 0
    assert close(ws, date(2026, 2, 20)).loans_scanned == 0
    assert status(ws, loan_id) == first
    with ws.engine.connect() as c:
        assert (
            c.execute(select(loans.c.version).where(loans.c.id == loan_id)).scalar_one() == version
        )


def test_lapsed_approvals_expire(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan = applications.apply(ws, ops, applicant(), date(2026, 1, 10))
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))  # valid 30 days: to 10 Feb
    assert close(ws, date(2026, 2, 10)).approvals_expired == 0
    assert close(ws, date(2026, 2, 11)).approvals_expired == 1
    assert status(ws, loan.id)[0] == "expired"


def test_bad_dates_are_refused() -> None:
    with pytest.raises(BadInput, match="before it starts"):
        cob.check_dates(date(2026, 3, 2), date(2026, 3, 1), today=date(2026, 3, 5))
    with pytest.raises(
        BadInput, match=r"cannot close 2026-03-06: it is after today \(2026-03-05\)"
    ):
        cob.check_dates(date(2026, 3, 2), date(2026, 3, 6), today=date(2026, 3, 5))
    cob.check_dates(date(2026, 3, 2), date(2026, 3, 5), today=date(2026, 3, 5))
