"""The reads of the demonstration's report that no other context's repository answers.

The report shows a product's book as the demonstration left it: a few paid-out loans
to print contracts for, and how many loans ended in each status.
"""

from __future__ import annotations

from sqlalchemy import func, select

from lendflow.store.tables import loans
from lendflow.store.uow import UnitOfWork


def paid_out_loan_ids(uow: UnitOfWork, product_code: str, limit: int) -> list[int]:
    """The first `limit` loans of the product that were paid out, by id."""
    query = (
        select(loans.c.id)
        .where(loans.c.product_code == product_code, loans.c.disbursed_on.is_not(None))
        .order_by(loans.c.id)
        .limit(limit)
    )
    return [r[0] for r in uow.connection.execute(query)]


def loans_per_state(uow: UnitOfWork, product_code: str) -> dict[str, int]:
    """How many of the product's loans are in each status, sorted by status."""
    query = (
        select(loans.c.state, func.count())
        .where(loans.c.product_code == product_code)
        .group_by(loans.c.state)
    )
    return dict(sorted((s, int(n)) for s, n in uow.connection.execute(query)))
