"""The night's bulk writes keep what each row says, on both databases.

On PostgreSQL penalty, recognition and journal lines are written as one statement over
arrays of their rows; on SQLite row by row. Either way: every row's amount is added (the
same instalment twice is charged twice), only the instalments named are touched, and an
entry's lines are stored in the order they were given.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from lendflow.close_of_business.day import set_checked
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
