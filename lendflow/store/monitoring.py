"""The reads of portfolio monitoring: a product's versions, loans, schedules and the
dated principal movements its KPIs are rebuilt from (see monitoring/kpis.py)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select

from lendflow.domain.ledger import Account
from lendflow.store import cob_marks
from lendflow.store.tables import (
    instalments,
    journal_entries,
    journal_lines,
    loans,
    product_versions,
)
from lendflow.store.uow import UnitOfWork


def versions_of(uow: UnitOfWork, code: str) -> list[dict[str, Any]]:
    """Every stored version of the product, in no particular order."""
    rows = uow.connection.execute(
        select(product_versions).where(product_versions.c.product_code == code)
    ).mappings()
    return [dict(r) for r in rows]


def loans_of(uow: UnitOfWork, version_ids: Collection[int]) -> list[dict[str, Any]]:
    """Every loan made under one of these product versions."""
    chosen = loans.c.product_version_id.in_(list(version_ids))
    found = [dict(r) for r in uow.connection.execute(select(loans).where(chosen)).mappings()]
    return cob_marks.current_rows(uow, found)


def due_and_paid(
    uow: UnitOfWork, version_ids: Collection[int]
) -> list[tuple[int, date, date | None]]:
    """(loan id, due date, paid on) of every instalment of those loans."""
    chosen = loans.c.product_version_id.in_(list(version_ids))
    rows = uow.connection.execute(
        select(instalments.c.loan_id, instalments.c.due_date, instalments.c.paid_on)
        .select_from(instalments.join(loans, loans.c.id == instalments.c.loan_id))
        .where(chosen)
    )
    return [(loan_id, due, paid) for loan_id, due, paid in rows]


def principal_movements(
    uow: UnitOfWork, version_ids: Collection[int]
) -> list[tuple[int, date, str, int]]:
    """(loan id, business date, entry kind, net debit) of the principal account, summed
    per loan, date and kind, for those loans: what outstanding principal was on any date."""
    chosen = loans.c.product_version_id.in_(list(version_ids))
    query = (
        select(
            journal_lines.c.loan_id,
            journal_entries.c.business_date,
            journal_entries.c.kind,
            func.sum(journal_lines.c.debit - journal_lines.c.credit),
        )
        .select_from(
            journal_lines.join(
                journal_entries, journal_entries.c.id == journal_lines.c.entry_id
            ).join(loans, loans.c.id == journal_lines.c.loan_id)
        )
        .where(and_(chosen, journal_lines.c.account == Account.LOAN_PRINCIPAL.value))
        .group_by(journal_lines.c.loan_id, journal_entries.c.business_date, journal_entries.c.kind)
    )
    return [
        (loan_id, day, kind, amount) for loan_id, day, kind, amount in uow.connection.execute(query)
    ]
