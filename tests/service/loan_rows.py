"""A loan's row as its readers see it, for tests that read the `loans` table themselves.

A quiet loan follows its id range's close-of-business mark: its stored `cob_through`,
`principal_days`, `interest_accrued` and `accrual_income` are as of the day it began to
follow (`loans.follows_from`), and every reader derives them through the mark
(`store.cob_marks.current`). A test comparing loans compares what a reader would show.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lendflow.store import cob_marks
from lendflow.store.tables import loans
from lendflow.store.uow import run_in_transaction
from lendflow.workspace.context import Workspace


def current_loans(ws: Workspace, *where: Any) -> list[dict[str, Any]]:
    """The loans matching `where` (all of them without), by id, as readers see them."""

    def read(uow: Any) -> list[dict[str, Any]]:
        query = select(loans).where(*where).order_by(loans.c.id)
        rows = [dict(r) for r in uow.connection.execute(query).mappings()]
        return cob_marks.current_rows(uow, rows)

    return run_in_transaction(ws.engine, read)


def current_loan(ws: Workspace, loan_id: int) -> dict[str, Any]:
    (found,) = current_loans(ws, loans.c.id == loan_id)
    return found
