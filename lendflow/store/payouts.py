"""Payouts sent to the payment gateway, one per loan under its one reference.

Run through the driver (`store.driver`): every disbursement reads and writes its
payout in two of its transactions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from lendflow.store import driver
from lendflow.store.tables import payouts, utc_now
from lendflow.store.uow import UnitOfWork

PAYOUTS = payouts
IN_FLIGHT = ("pending", "paid")  # sent, and may have been paid

_BY_REFERENCE = select(PAYOUTS).where(PAYOUTS.c.reference == bindparam("reference"))
_IN_FLIGHT = select(PAYOUTS).where(
    PAYOUTS.c.loan_id == bindparam("loan_id"), PAYOUTS.c.status.in_(IN_FLIGHT)
)
_INSERT = insert(PAYOUTS)
_UPDATE = update(PAYOUTS).where(PAYOUTS.c.reference == bindparam("b_reference"))


def in_flight(uow: UnitOfWork, loan_id: int) -> dict[str, Any] | None:
    """The loan's payout if one was sent and may have been paid (pending or paid)."""
    return driver.first(uow, _IN_FLIGHT, {"loan_id": loan_id})


def by_reference(uow: UnitOfWork, reference: str) -> dict[str, Any] | None:
    return driver.first(uow, _BY_REFERENCE, {"reference": reference})


def add(uow: UnitOfWork, values: Mapping[str, Any]) -> None:
    driver.execute(uow, _INSERT, values)


def change(uow: UnitOfWork, reference: str, changes: Mapping[str, Any]) -> None:
    """Update the payout under `reference`, stamping when it changed."""
    driver.execute(uow, _UPDATE, {**changes, "updated_at": utc_now(), "b_reference": reference})
