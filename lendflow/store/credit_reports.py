"""The reads a month's credit report is made of, and what was reported (table `credit_reports`).

A month is read a range of loan ids at a time (`CHUNK`): the loans reportable in it,
their instalments and the journal lines naming them up to the month's last day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select

from lendflow.domain.consents import CREDIT_REPORTING
from lendflow.domain.statuses import DISBURSED, OUTSTANDING
from lendflow.store.cob_marks import CLOSED_THROUGH
from lendflow.store.tables import (
    consents,
    credit_reports,
    instalments,
    journal_entries,
    journal_lines,
    loans,
)
from lendflow.store.uow import UnitOfWork

CHUNK = 1000
"""Loans read at a time: a month of a large book is never held whole."""

_LIVE = tuple(sorted(s.value for s in OUTSTANDING))
_DISBURSED = tuple(sorted(s.value for s in DISBURSED))


def not_closed_through(uow: UnitOfWork, last: date) -> tuple[int, int | None, date | None]:
    """Live loans paid out by `last` whose close of business has not closed `last`: how
    many, and the first of them (by id) with the last day closed for it."""
    behind = and_(
        loans.c.state.in_(_LIVE),
        loans.c.disbursed_on <= last,
        or_(CLOSED_THROUGH.is_(None), last > CLOSED_THROUGH),
    )
    count = uow.connection.execute(select(func.count()).where(behind)).scalar_one()
    if not count:
        return 0, None, None
    first = uow.connection.execute(
        select(loans.c.id, CLOSED_THROUGH).where(behind).order_by(loans.c.id).limit(1)
    ).one()
    return int(count), int(first[0]), first[1]


def _reportable(first: date, last: date) -> Any:
    """Loans paid out by the month's end, not closed before it started, whose borrower's
    credit_reporting consent was given by the month's end and not withdrawn by then."""
    consented = exists().where(  # by the (loan_id, name) unique index, loan by loan
        consents.c.loan_id == loans.c.id,
        consents.c.name == CREDIT_REPORTING,
        consents.c.given_on <= last,
        or_(consents.c.withdrawn_on.is_(None), consents.c.withdrawn_on > last),
    )
    return and_(
        loans.c.state.in_(_DISBURSED),
        loans.c.disbursed_on <= last,
        or_(loans.c.closed_on.is_(None), loans.c.closed_on >= first),
        consented,
    )


def reportable_chunks(uow: UnitOfWork, first: date, last: date) -> Iterable[list[dict[str, Any]]]:
    """The reportable loans of the month in id order, `CHUNK` at a time."""
    columns = (
        loans.c.id,
        loans.c.customer_id,
        loans.c.product_version_id,
        loans.c.state,
        loans.c.principal,
        loans.c.term,
        loans.c.method,
        loans.c.disbursed_on,
        loans.c.closed_on,
    )
    after = 0
    while True:
        query = (
            select(*columns)
            .where(_reportable(first, last), loans.c.id > after)
            .order_by(loans.c.id)
            .limit(CHUNK)
        )
        rows = [dict(r) for r in uow.connection.execute(query).mappings()]
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]


def instalments_of(uow: UnitOfWork, loan_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The instalments of these loans, by loan, in schedule order."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = (
        select(
            instalments.c.loan_id,
            instalments.c.n,
            instalments.c.due_date,
            instalments.c.principal,
            instalments.c.interest,
            instalments.c.fee,
            instalments.c.interest_waived,
            instalments.c.fee_waived,
            instalments.c.paid_on,
        )
        .where(instalments.c.loan_id.in_(loan_ids))
        .order_by(instalments.c.loan_id, instalments.c.n)
    )
    for row in uow.connection.execute(query).mappings():
        found[row["loan_id"]].append(dict(row))
    return found


def movements_of(
    uow: UnitOfWork, loan_ids: list[int], through: date
) -> dict[int, list[tuple[date, str, str, int, int]]]:
    """The journal lines naming these loans dated up to `through`, by loan: (date, kind,
    account, debit, credit). A reversal's line carries the kind of the entry it reverses."""
    original = journal_entries.alias("original")
    kind = func.coalesce(original.c.kind, journal_entries.c.kind)
    query = (
        select(
            journal_lines.c.loan_id,
            journal_entries.c.business_date,
            kind,
            journal_lines.c.account,
            journal_lines.c.debit,
            journal_lines.c.credit,
        )
        .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
        .outerjoin(original, original.c.id == journal_entries.c.reversal_of)
        .where(journal_lines.c.loan_id.in_(loan_ids), journal_entries.c.business_date <= through)
        .order_by(journal_lines.c.loan_id, journal_lines.c.id)
    )
    found: dict[int, list[tuple[date, str, str, int, int]]] = defaultdict(list)
    for loan_id, day, kind_of, account, debit, credit in uow.connection.execute(query):
        found[loan_id].append((day, kind_of, account, int(debit), int(credit)))
    return found


def last_reported(uow: UnitOfWork, month: str, loan_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Each loan's latest report for the month: (revision, figures' SHA-256)."""
    query = (
        select(credit_reports.c.loan_id, credit_reports.c.revision, credit_reports.c.figures_sha256)
        .where(credit_reports.c.month == month, credit_reports.c.loan_id.in_(loan_ids))
        .order_by(credit_reports.c.loan_id, credit_reports.c.revision)
    )
    found: dict[int, tuple[int, str]] = {}
    for loan_id, revision, digest in uow.connection.execute(query):
        found[loan_id] = (int(revision), digest)  # the highest revision comes last
    return found


def reported(uow: UnitOfWork, month: str) -> list[dict[str, Any]]:
    """Every report kept for the month, by loan and revision."""
    query = (
        select(credit_reports)
        .where(credit_reports.c.month == month)
        .order_by(credit_reports.c.loan_id, credit_reports.c.revision)
    )
    return [dict(r) for r in uow.connection.execute(query).mappings()]


def add_all(uow: UnitOfWork, rows: Iterable[Mapping[str, Any]]) -> None:
    found = [dict(r) for r in rows]
    if found:
        uow.connection.execute(insert(credit_reports), found)
