"""Reading and writing loans and their instalments with optimistic locking.

The single-loan statements run straight through the driver (`store.driver`): an
operator's action is a handful of them, and SQLAlchemy's per-statement overhead
would cost more than the database work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, select, update

from lendflow.domain.errors import Conflict, NotFound
from lendflow.domain.statuses import OUTSTANDING, LoanStatus
from lendflow.store import cob_marks, driver, range_locks
from lendflow.store.tables import instalments as instalments_table
from lendflow.store.tables import loans, utc_now
from lendflow.store.uow import UnitOfWork

LOANS = loans
INSTALMENTS = instalments_table

# Statements built once: building a statement per call costs three times its execution.
_GET = select(LOANS).where(LOANS.c.id == bindparam("loan_id"))
_GET_FOR_UPDATE = _GET.with_for_update()
_ADD = insert(LOANS).returning(*LOANS.c)
_SAVE = update(LOANS).where(
    LOANS.c.id == bindparam("b_id"), LOANS.c.version == bindparam("b_version")
)
_INSTALMENTS = (
    select(INSTALMENTS)
    .where(INSTALMENTS.c.loan_id == bindparam("loan_id"))
    .order_by(INSTALMENTS.c.n)
)
_INSERT_INSTALMENT = insert(INSTALMENTS)
_MANY = select(LOANS).where(LOANS.c.id.in_(bindparam("ids", expanding=True)))
_MANY_SCHEDULES = (
    select(INSTALMENTS)
    .where(INSTALMENTS.c.loan_id.in_(bindparam("ids", expanding=True)))
    .order_by(INSTALMENTS.c.loan_id, INSTALMENTS.c.n)
)
_UPDATE_INSTALMENT = update(INSTALMENTS).where(INSTALMENTS.c.id == bindparam("b_id"))


def get(uow: UnitOfWork, loan_id: int, *, for_update: bool = False) -> dict[str, Any]:
    """The loan row; with `for_update` it is locked until the transaction ends, after
    any chunk of close of business closing it (`range_locks`)."""
    key = {"loan_id": loan_id}
    if for_update and uow.dialect == "postgresql":  # in one round trip, in this order
        shared = (range_locks.SHARED, range_locks.share_loan(loan_id))
        found = driver.together(uow, [shared, (_GET_FOR_UPDATE, key)])[1]
        row = found[0] if found else None
    else:
        row = driver.first(uow, _GET_FOR_UPDATE if for_update else _GET, key)
    if row is None:
        raise NotFound(f"loan {loan_id} does not exist")
    return cob_marks.current(uow, row)


def add(uow: UnitOfWork, values: Mapping[str, Any]) -> dict[str, Any]:
    """Insert a loan; returns the stored row, defaults included, without reading it back."""
    row = driver.first(uow, _ADD, values)
    assert row is not None  # INSERT … RETURNING always answers
    return row


def save(uow: UnitOfWork, loan: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Write `changes` if nobody changed the loan since it was read; bump its version.

    The version condition is in the UPDATE itself, so it holds for set-based and
    single-row writes alike and a concurrent writer can never be overwritten.
    """
    version = loan["version"]
    changes = {**cob_marks.owned(loan), **changes}  # a following loan's figures its own
    changed = driver.rowcount(
        uow,
        _SAVE,
        {
            **changes,
            "version": version + 1,
            "updated_at": utc_now(),
            "b_id": loan["id"],
            "b_version": version,
        },
    )
    if changed != 1:
        raise Conflict(f"loan {loan['id']} was changed by someone else; read it again and retry")
    return {**loan, **changes, "version": version + 1}


def instalments(uow: UnitOfWork, loan_id: int) -> list[dict[str, Any]]:
    return driver.rows(uow, *instalments_read(loan_id))


def instalments_read(loan_id: int) -> tuple[Any, dict[str, Any]]:
    """`instalments` as a read to send with others (`driver.together`)."""
    return _INSTALMENTS, {"loan_id": loan_id}


def get_many(uow: UnitOfWork, loan_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The rows of many loans by id, each as `get` returns it (a missing id is absent).

    A batch job (close of business issuing its notices) reads its loans this way: on
    PostgreSQL a read is a round trip to the server, a few hundred µs for one row."""
    rows = cob_marks.current_rows(uow, driver.rows_by_ids(uow, _MANY, loan_ids))
    return {row["id"]: row for row in rows}


def instalments_of_many(uow: UnitOfWork, loan_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The schedules of many loans, each in instalment order as `instalments` reads it."""
    found: dict[int, list[dict[str, Any]]] = {loan_id: [] for loan_id in loan_ids}
    for row in driver.rows_by_ids(uow, _MANY_SCHEDULES, loan_ids):
        found[row["loan_id"]].append(row)
    return found


def insert_instalments(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Insert a schedule (every row with the same columns) in one driver call."""
    driver.execute_many(uow, _INSERT_INSTALMENT, rows)


def update_instalment(uow: UnitOfWork, instalment_id: int, changes: Mapping[str, Any]) -> None:
    driver.execute(uow, _UPDATE_INSTALMENT, {**changes, "b_id": instalment_id})


def delete_instalments(uow: UnitOfWork, loan_id: int, numbers: list[int]) -> None:
    """Take instalments off the running schedule (a shorter term after a prepayment; the
    schedule they belonged to is kept in `schedule_versions`)."""
    if numbers:
        uow.connection.execute(
            delete(instalments_table).where(
                instalments_table.c.loan_id == loan_id, instalments_table.c.n.in_(numbers)
            )
        )


OUTSTANDING_STATES = tuple(sorted(s.value for s in OUTSTANDING))
OPEN_APPLICATION_STATES = (
    LoanStatus.SUBMITTED.value,
    LoanStatus.UNDER_REVIEW.value,
    LoanStatus.APPROVED.value,
)
_OPEN_APPLICATIONS = select(LOANS.c.id).where(
    LOANS.c.customer_id == bindparam("customer_id"),
    LOANS.c.product_code == bindparam("product_code"),
    LOANS.c.state.in_(OPEN_APPLICATION_STATES),
)
_EXPOSURE = select(
    func.coalesce(
        func.sum(
            case(
                (
                    LOANS.c.state.in_(sorted(s.value for s in OUTSTANDING)),
                    LOANS.c.principal_outstanding,
                ),
                (
                    LOANS.c.state.in_(OPEN_APPLICATION_STATES),
                    func.coalesce(LOANS.c.approved_amount, LOANS.c.requested_amount),
                ),
                else_=0,
            )
        ),
        0,
    )
).where(LOANS.c.customer_id == bindparam("customer_id"))


def open_applications(uow: UnitOfWork, customer_id: int, product_code: str) -> list[int]:
    rows = driver.rows(
        uow, _OPEN_APPLICATIONS, {"customer_id": customer_id, "product_code": product_code}
    )
    return [r["id"] for r in rows]


def exposure(uow: UnitOfWork, customer_id: int) -> int:
    """What the customer owes or may soon owe us: principal outstanding plus open requests."""
    return int(driver.scalar(uow, _EXPOSURE, {"customer_id": customer_id}))


def exposure_of_customers(uow: UnitOfWork, customer_ids: list[int]) -> int:
    """`exposure` summed over several customers (a group of related parties, a few
    people: one indexed query each)."""
    return sum(exposure(uow, customer_id) for customer_id in customer_ids)


def list_loans(
    uow: UnitOfWork,
    *,
    state: str | None = None,
    product: str | None = None,
    limit: int = 100,
    after_id: int = 0,
) -> list[dict[str, Any]]:
    query = select(LOANS).where(LOANS.c.id > after_id)
    if state:
        query = query.where(LOANS.c.state == state)
    if product:
        query = query.where(LOANS.c.product_code == product)
    rows = uow.connection.execute(query.order_by(LOANS.c.id).limit(limit)).mappings()
    return cob_marks.current_rows(uow, [dict(r) for r in rows])


def page_loans(
    uow: UnitOfWork,
    *,
    state: str | None = None,
    product: str | None = None,
    dpd_min: int | None = None,
    dpd_max: int | None = None,
    bucket: str | None = None,
    customer_ids: list[int] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[dict[str, Any]]]:
    """One page of loans by id, and how many match in all (an API's list with a total)."""
    where = []
    if state:
        where.append(LOANS.c.state == state)
    if product:
        where.append(LOANS.c.product_code == product)
    if dpd_min is not None:
        where.append(LOANS.c.dpd >= dpd_min)
    if dpd_max is not None:
        where.append(LOANS.c.dpd <= dpd_max)
    if bucket:
        where.append(LOANS.c.bucket == bucket)
    if customer_ids is not None:
        where.append(LOANS.c.customer_id.in_(customer_ids or [-1]))
    total = uow.connection.execute(select(func.count()).select_from(LOANS).where(*where)).scalar()
    rows = uow.connection.execute(
        select(LOANS).where(*where).order_by(LOANS.c.id).offset(offset).limit(limit)
    ).mappings()
    return int(total or 0), cob_marks.current_rows(uow, [dict(r) for r in rows])


def ids_in_state(uow: UnitOfWork, state: str, after_id: int, limit: int) -> list[int]:
    rows = uow.connection.execute(
        select(LOANS.c.id)
        .where(LOANS.c.state == state, LOANS.c.id > after_id)
        .order_by(LOANS.c.id)
        .limit(limit)
    )
    return [r[0] for r in rows]
