"""The night's bulk writes keep what each row says, on both databases.

On PostgreSQL penalty, recognition and journal lines are written as one statement over
arrays of their rows; on SQLite row by row. Either way: every row's amount is added (the
same instalment twice is charged twice), only the instalments named are touched, and an
entry's lines are stored in the order they were given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from lendflow.close_of_business.day import LoanDay, set_checked
from lendflow.domain.errors import Conflict
from lendflow.domain.ledger import Account
from lendflow.store import cob_queries as q
from lendflow.store.cob_ledger import post_entry
from lendflow.store.tables import instalments, loans
from lendflow.store.uow import run_in_transaction
from tests.service.journal_reads import entry_lines
from tests.service.test_cob_golden import open_loan


def test_penalty_recognition_and_lines_are_written_as_given(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    with ws.engine.connect() as c:
        first, second, third = (
            c.execute(
                select(instalments.c.id)
                .where(instalments.c.loan_id == loan_id, instalments.c.n > 0)
                .order_by(instalments.c.n)
            )
            .scalars()
            .all()
        )
    lines = [
        (loan_id, Account.PENALTY_RECEIVABLE, 123, 0),
        (None, Account.PENALTY_INCOME, 0, 100),
        (loan_id, Account.INTEREST_RECEIVABLE, 7, 0),
        (None, Account.PENALTY_INCOME, 0, 30),
    ]

    def night(uow):  # type: ignore[no-untyped-def]
        q.execute_rows(
            uow, q.ADD_PENALTY, ("b_id", "b_amount"), [(first, 5), (second, 7), (first, 11)]
        )
        q.execute_rows(uow, q.MARK_RECOGNISED, ("b_id",), [(second,), (third,)])
        return post_entry(
            uow, kind="penalty", lines=lines, business_date=date(2026, 3, 1), actor="cob"
        )

    entry_id = run_in_transaction(ws.engine, night)
    with ws.engine.connect() as c:
        items = c.execute(
            select(instalments.c.id, instalments.c.penalty, instalments.c.recognised)
            .where(instalments.c.loan_id == loan_id, instalments.c.n > 0)
            .order_by(instalments.c.n)
        ).all()
        stored = entry_lines(c, entry_id)
    assert [tuple(row) for row in items] == [
        (first, 16, False),
        (second, 7, True),
        (third, 0, True),
    ]
    assert stored == [
        (loan_id, "penalty_receivable", 123, 0),
        (None, "penalty_income", 0, 100),
        (loan_id, "interest_receivable", 7, 0),
        (None, "penalty_income", 0, 30),
    ]


def test_a_loan_changed_since_the_night_read_it_is_a_conflict(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    """The night's per-loan writes carry the version each loan was read at: one changed
    meanwhile (a repayment) refuses the chunk's transaction, and one unchanged is written."""
    loan_id, other_id = (open_loan(ws, ops, risk, applicant) for _ in range(2))
    with ws.engine.connect() as c:
        versions = dict(c.execute(select(loans.c.id, loans.c.version)).all())

    def night(stale: bool):  # type: ignore[no-untyped-def]
        def write(uow):  # type: ignore[no-untyped-def]
            set_checked(
                uow,
                [
                    {"b_id": loan_id, "b_version": versions[loan_id] - stale, "dpd": 3,
                     "bucket": "M1", "version": versions[loan_id] + 1},
                    {"b_id": other_id, "b_version": versions[other_id], "dpd": 4,
                     "bucket": "M1", "version": versions[other_id] + 1},
                ],
            )  # fmt: skip

        return write

    with pytest.raises(Conflict):
        run_in_transaction(ws.engine, night(stale=True))
    with ws.engine.connect() as c:
        assert c.execute(select(loans.c.dpd).order_by(loans.c.id)).scalars().all() == [0, 0]
    run_in_transaction(ws.engine, night(stale=False))
    with ws.engine.connect() as c:
        assert c.execute(select(loans.c.dpd).order_by(loans.c.id)).scalars().all() == [3, 4]


def test_dates_and_timestamps_are_written_as_given(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    """Values the driver needs converted (a date, a timestamp) are converted column by
    column for every row, beside values passed as they are."""
    loan_id, other_id = (open_loan(ws, ops, risk, applicant) for _ in range(2))
    with ws.engine.connect() as c:
        versions = dict(c.execute(select(loans.c.id, loans.c.version)).all())
    stamp = datetime(2026, 3, 2, 1, 2, 3, tzinfo=UTC)

    def write(uow):  # type: ignore[no-untyped-def]
        set_checked(
            uow,
            [
                {"b_id": loan_id, "b_version": versions[loan_id], "held_since": date(2026, 3, 1),
                 "dpd": 3, "updated_at": stamp, "version": versions[loan_id] + 1},
                {"b_id": other_id, "b_version": versions[other_id], "held_since": None,
                 "dpd": 4, "updated_at": stamp, "version": versions[other_id] + 1},
            ],
        )  # fmt: skip

    run_in_transaction(ws.engine, write)
    with ws.engine.connect() as c:
        rows = c.execute(
            select(loans.c.held_since, loans.c.dpd, loans.c.updated_at).order_by(loans.c.id)
        ).all()
    assert [(held, dpd) for held, dpd, _ in rows] == [(date(2026, 3, 1), 3), (None, 4)]
    assert {updated.replace(tzinfo=UTC) for _, _, updated in rows} == {stamp}


def test_a_night_writes_only_the_judged_columns_it_changed() -> None:
    """An overdue loan ageing a day keeps its status and class: the night writes its days
    past due, not the status and class again (their index entries would be rewritten)."""
    loan = LoanDay(1, 5, 0, 0, 0)
    loan.read_in_full(
        (1, "overdue", 5, 9, 1, 3, "M1", "normal", 100, 0, 0, 0, None, None, 0, None, 2_000,
         None, None, 0, 0, 0, None, 0, 0)
    )  # fmt: skip
    loan.new_dpd, loan.new_bucket = 4, "M1"
    loan.new_classification, loan.new_held_since = "normal", None
    assert loan.judgement_changes() == {"dpd": 4}
    loan.new_state, loan.new_classification = "written_off", "loss"
    assert loan.judgement_changes() == {
        "state": "written_off",
        "dpd": 4,
        "classification": "loss",
    }
