"""The loan store's statements, run straight through the database driver, on each database.

What they write and read must be exactly what SQLAlchemy writes and reads (dates,
flags, timestamps, column defaults), a broken constraint must surface as
SQLAlchemy's error and leave nothing behind, and a stale write must still be a
conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Conflict
from lendflow.domain.ledger import Account, Line
from lendflow.loans import applications, disbursement
from lendflow.loans.applications import Application
from lendflow.store import customers, idempotency, journal, movement_reads
from lendflow.store import loans as loan_store
from lendflow.store.tables import instalments, journal_entries, journal_lines, loans
from lendflow.store.uow import UnitOfWork, run_in_transaction
from lendflow.workspace.context import Workspace

Applicant = Callable[..., Application]
APPLIED = date(2026, 1, 10)


def test_a_loan_and_its_schedule_read_the_same_through_the_driver_as_through_sqlalchemy(
    ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant
) -> None:
    applied = applications.apply(ws, ops, applicant(amount="6000", term=3), APPLIED)
    loan_id = applied.id
    with ws.engine.begin() as connection:
        submitted = loan_store.get(UnitOfWork(connection), loan_id)
    # The defaults SQLAlchemy would have filled in were filled in.
    assert (submitted["applied_on"], submitted["version"], submitted["bucket"]) == (
        APPLIED,
        1,
        "M0",
    )
    assert (submitted["principal_outstanding"], submitted["created_at"]) != (None, None)

    applications.start_review(ws, ops, loan_id, APPLIED)
    applications.approve(ws, risk, loan_id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan_id, date(2026, 1, 12))
    with ws.engine.begin() as connection:
        uow = UnitOfWork(connection)
        loan, schedule = loan_store.get(uow, loan_id), loan_store.instalments(uow, loan_id)
        stored_loan = connection.execute(select(loans).where(loans.c.id == loan_id)).mappings()
        stored_schedule = connection.execute(
            select(instalments).where(instalments.c.loan_id == loan_id).order_by(instalments.c.n)
        ).mappings()
        assert loan == dict(stored_loan.one())
        assert schedule == [dict(r) for r in stored_schedule]
    assert [r["due_date"] for r in schedule] == [
        date(2026, 2, 12),
        date(2026, 3, 12),
        date(2026, 4, 12),
    ]
    assert {type(r["recognised"]) for r in schedule} == {bool}


def test_a_broken_constraint_is_sqlalchemys_error_and_the_transaction_leaves_nothing(
    ws: Workspace,
) -> None:
    def post_twice(uow: UnitOfWork) -> None:
        for _ in range(2):
            journal.post(
                uow,
                kind="adjustment",
                lines=[],
                business_date=APPLIED,
                actor="ops",
                loan_id=None,
                idempotency_key="bank-tx-7",
            )

    with pytest.raises(IntegrityError):
        run_in_transaction(ws.engine, post_twice)
    with ws.engine.connect() as connection:
        found = connection.execute(
            select(func.count())
            .select_from(journal_entries)
            .where(journal_entries.c.idempotency_key == "bank-tx-7")
        ).scalar_one()
    assert found == 0


def test_a_write_from_a_stale_read_is_a_conflict(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    applied = applications.apply(ws, ops, applicant(), APPLIED)
    loan_id = applied.id

    def stale_write(uow: UnitOfWork) -> None:
        read = loan_store.get(uow, loan_id, for_update=True)
        loan_store.save(uow, read, {"purpose": "education"})
        loan_store.save(uow, read, {"purpose": "travel"})  # from the first read again

    with pytest.raises(Conflict, match=f"loan {loan_id} was changed by someone else"):
        run_in_transaction(ws.engine, stale_write)
    with ws.engine.connect() as connection:
        purpose = connection.execute(select(loans.c.purpose).where(loans.c.id == loan_id))
        assert purpose.scalar_one() == applied.purpose != "education"  # nothing written


def test_an_entry_and_its_lines_are_stored_as_posted_in_their_order(ws: Workspace) -> None:
    """On PostgreSQL an entry and its lines go in one statement; what is stored, and the
    lines' order, are what two statements stored."""
    posted = [
        [
            Line(Account.CASH, debit=30_000),
            Line(Account.LOAN_PRINCIPAL, credit=25_000),
            Line(Account.INTEREST_RECEIVABLE, credit=5_000),
        ],
        [Line(Account.CASH, debit=0)],  # one line: a statement of its own shape
    ]

    def post(uow: UnitOfWork) -> list[int]:
        return [
            journal.post(
                uow,
                kind="adjustment",
                lines=lines,
                business_date=APPLIED,
                actor="ops",
                loan_id=None,
                idempotency_key=f"entry-{n}",
                memo="by hand",
            )
            for n, lines in enumerate(posted)
        ]

    entry_ids = run_in_transaction(ws.engine, post)
    with ws.engine.connect() as connection:
        for entry_id, lines in zip(entry_ids, posted, strict=True):
            entry = (
                connection.execute(select(journal_entries).where(journal_entries.c.id == entry_id))
                .mappings()
                .one()
            )
            assert (entry["kind"], entry["business_date"], entry["memo"]) == (
                "adjustment",
                APPLIED,
                "by hand",
            )
            assert entry["created_at"] is not None
            stored = connection.execute(
                select(journal_lines.c.account, journal_lines.c.debit, journal_lines.c.credit)
                .where(journal_lines.c.entry_id == entry_id)
                .order_by(journal_lines.c.id)
            ).all()
            assert stored == [(str(x.account), x.debit, x.credit) for x in lines]


def test_the_reads_after_a_loans_lock_see_the_transaction_and_answer_as_alone(
    ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant
) -> None:
    """A repayment's reads sent together (one round trip on PostgreSQL) answer what each
    read alone answers, the transaction's own writes included."""
    loan_id = applications.apply(ws, ops, applicant(amount="6000", term=3), APPLIED).id
    applications.start_review(ws, ops, loan_id, APPLIED)
    applications.approve(ws, risk, loan_id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan_id, date(2026, 1, 12))

    def read_together(uow: UnitOfWork) -> None:
        loan = loan_store.get(uow, loan_id, for_update=True)
        journal.post(
            uow,
            kind="repayment",
            lines=[Line(Account.CASH, debit=100), Line(Account.LOAN_PRINCIPAL, credit=100)],
            business_date=date(2026, 1, 20),
            actor="ops",
            loan_id=loan_id,
        )
        idempotency.remember(uow, "key-1", "repay", {"loan_id": loan_id}, {"ok": 1}, loan_id)
        found = movement_reads.after_lock(uow, loan, "key-1")
        assert found.last_movement == journal.last_movement(uow, loan_id) == date(2026, 1, 20)
        assert found.instalments == loan_store.instalments(uow, loan_id)
        assert found.customer == customers.get(uow, loan["customer_id"])
        assert idempotency.answer(found.stored, "key-1", "repay", {"loan_id": loan_id}) == {"ok": 1}
        assert movement_reads.after_lock(uow, loan, "key-2").stored is None

    run_in_transaction(ws.engine, read_together)
