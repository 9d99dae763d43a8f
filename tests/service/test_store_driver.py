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
from lendflow.loans import applications, disbursement
from lendflow.loans.applications import Application
from lendflow.store import journal
from lendflow.store import loans as loan_store
from lendflow.store.tables import instalments, journal_entries, loans
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
