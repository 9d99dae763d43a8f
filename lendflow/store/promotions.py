"""What the loan engine's promotions read and keep besides campaigns: whether a loan is
the customer's first, and who referred an application."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from lendflow.store.tables import customers, loans, referrals
from lendflow.store.uow import UnitOfWork


def other_loan_paid_out(uow: UnitOfWork, loan: dict[str, Any]) -> bool:
    """Whether any other loan of the loan's customer has ever been paid out."""
    earlier = uow.connection.execute(
        select(loans.c.id)
        .where(
            loans.c.customer_id == loan["customer_id"],
            loans.c.id != loan["id"],
            loans.c.disbursed_on.is_not(None),
        )
        .limit(1)
    ).first()
    return earlier is not None


def referrer_of(uow: UnitOfWork, loan_id: int) -> int | None:
    """The customer the application named as having referred the applicant, if any."""
    referrer = uow.connection.execute(
        select(referrals.c.referrer_id).where(referrals.c.loan_id == loan_id)
    ).scalar()
    return None if referrer is None else int(referrer)


def add_referral(uow: UnitOfWork, loan_id: int, referrer_id: int) -> None:
    uow.connection.execute(insert(referrals).values(loan_id=loan_id, referrer_id=referrer_id))


def customer_id_by_id_hash(uow: UnitOfWork, id_hash: str) -> int | None:
    """The customer with this national ID's keyed hash (None if nobody is a customer)."""
    row = uow.connection.execute(
        select(customers.c.id).where(customers.c.id_hash == id_hash)
    ).first()
    return None if row is None else int(row[0])
