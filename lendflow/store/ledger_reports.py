"""The finance team's reads of the journal: balances per account to a date, movements
over a window, the lines of a window for the general ledger, and the month-end
provisions close of business kept (`loan_provisions`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import and_, func, literal_column, select

from lendflow.store.cob_marks import CLOSED_THROUGH
from lendflow.store.tables import journal_entries, journal_lines, loan_provisions, loans
from lendflow.store.uow import UnitOfWork

EXPORT_BATCH = 5_000
_ALLOWANCE_LINE = journal_lines.c.account == literal_column("'loan_loss_allowance'")


def account_sums(
    uow: UnitOfWork, through: date, since: date | None = None
) -> dict[str, tuple[int, int]]:
    """Debits and credits per account over the entries dated up to `through` (from
    `since`, if given)."""
    dated = journal_entries.c.business_date <= through
    if since is not None:
        dated = and_(dated, journal_entries.c.business_date >= since)
    rows = uow.connection.execute(
        select(
            journal_lines.c.account,
            func.sum(journal_lines.c.debit),
            func.sum(journal_lines.c.credit),
        )
        .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
        .where(dated)
        .group_by(journal_lines.c.account)
    )
    return {account: (int(debit or 0), int(credit or 0)) for account, debit, credit in rows}


def kind_sums(uow: UnitOfWork, first: date, last: date, kind: str) -> dict[str, tuple[int, int]]:
    """Debits and credits per account of the entries of `kind` dated `first` … `last`."""
    rows = uow.connection.execute(
        select(
            journal_lines.c.account,
            func.sum(journal_lines.c.debit),
            func.sum(journal_lines.c.credit),
        )
        .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
        .where(
            journal_entries.c.kind == kind,
            journal_entries.c.business_date.between(first, last),
        )
        .group_by(journal_lines.c.account)
    )
    return {account: (int(debit or 0), int(credit or 0)) for account, debit, credit in rows}


def lines_between(uow: UnitOfWork, first: date, last: date) -> Iterator[dict[str, Any]]:
    """Every journal line of the entries dated `first` … `last`, in the order posted,
    read `EXPORT_BATCH` lines at a time (a month of a large book does not fit in memory)."""
    after = 0
    while True:
        rows = uow.connection.execute(
            select(
                journal_lines.c.id,
                journal_entries.c.id.label("entry_id"),
                journal_entries.c.business_date,
                journal_entries.c.kind,
                journal_lines.c.loan_id,
                journal_lines.c.account,
                journal_lines.c.debit,
                journal_lines.c.credit,
                journal_entries.c.reversal_of,
            )
            .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            .where(
                journal_entries.c.business_date.between(first, last),
                journal_lines.c.id > after,
            )
            .order_by(journal_lines.c.id)
            .limit(EXPORT_BATCH)
        ).mappings()
        batch = [dict(row) for row in rows]
        if not batch:
            return
        yield from batch
        after = batch[-1]["id"]


def last_month_end(uow: UnitOfWork, through: date) -> date | None:
    """The latest month end up to `through` for which close of business kept provisions."""
    found: date | None = uow.connection.execute(
        select(func.max(loan_provisions.c.month_end)).where(loan_provisions.c.month_end <= through)
    ).scalar()
    return found


def provisions_by_class(uow: UnitOfWork, month_end: date) -> list[dict[str, Any]]:
    """The month end's provisions per class and rate: loans, principal, the class's part
    and the general part (the loans released to nothing are left out)."""
    rows = uow.connection.execute(
        select(
            loan_provisions.c.classification,
            loan_provisions.c.rate,
            func.count(),
            func.sum(loan_provisions.c.principal),
            func.sum(loan_provisions.c.specific),
            func.sum(loan_provisions.c.general),
        )
        .where(loan_provisions.c.month_end == month_end, loan_provisions.c.principal > 0)
        .group_by(loan_provisions.c.classification, loan_provisions.c.rate)
    )
    return [
        {
            "classification": klass,
            "rate": rate,
            "loans": int(n),
            "principal": int(principal or 0),
            "specific": int(specific or 0),
            "general": int(general or 0),
        }
        for klass, rate, n, principal, specific, general in rows
    ]


def latest_provisions(uow: UnitOfWork, lo: int, hi: int) -> list[dict[str, Any]]:
    """For each loan of the id range with provisions kept: its latest month end's row,
    its allowance through that day and its principal then, as its journal lines say."""
    latest = (
        select(loan_provisions.c.loan_id, func.max(loan_provisions.c.month_end).label("on"))
        .where(loan_provisions.c.loan_id.between(lo, hi))
        .group_by(loan_provisions.c.loan_id)
        .subquery()
    )
    kept = (
        select(
            loan_provisions,
            loans.c.state,
            CLOSED_THROUGH.label("cob_through"),
            loans.c.disbursed_on,
        )
        .join(
            latest,
            and_(
                latest.c.loan_id == loan_provisions.c.loan_id,
                latest.c.on == loan_provisions.c.month_end,
            ),
        )
        .join(loans, loans.c.id == loan_provisions.c.loan_id)
        .order_by(loan_provisions.c.loan_id)
    )
    rows = [dict(r) for r in uow.connection.execute(kept).mappings()]
    if not rows:
        return rows
    through = {r["loan_id"]: r["month_end"] for r in rows}
    sums = uow.connection.execute(
        select(
            journal_lines.c.loan_id,
            journal_lines.c.account,
            journal_entries.c.business_date,
            func.sum(journal_lines.c.debit - journal_lines.c.credit),
        )
        .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
        .where(
            journal_lines.c.loan_id.between(lo, hi),
            journal_lines.c.account.in_(("loan_loss_allowance", "loan_principal")),
        )
        .group_by(journal_lines.c.loan_id, journal_lines.c.account, journal_entries.c.business_date)
    )
    allowance: dict[int, int] = {}
    principal: dict[int, int] = {}
    for loan_id, account, on, net in sums:
        if loan_id not in through or on > through[loan_id]:
            continue
        if account == "loan_loss_allowance":  # credit-normal
            allowance[loan_id] = allowance.get(loan_id, 0) - int(net)
        else:
            principal[loan_id] = principal.get(loan_id, 0) + int(net)
    for row in rows:
        row["allowance"] = allowance.get(row["loan_id"], 0)
        row["journal_principal"] = principal.get(row["loan_id"], 0)
    return rows


def live_loans_closed_through(uow: UnitOfWork, lo: int, hi: int) -> list[dict[str, Any]]:
    """The range's live loans (active, overdue): id, payout and closed-through dates."""
    rows = uow.connection.execute(
        select(loans.c.id, loans.c.disbursed_on, CLOSED_THROUGH.label("cob_through")).where(
            loans.c.id.between(lo, hi), loans.c.state.in_(("active", "overdue"))
        )
    ).mappings()
    return [dict(r) for r in rows]


def allowance_lines_without_loan(uow: UnitOfWork) -> int:
    """Allowance lines that name no loan (every one should: the allowance is per loan)."""
    return int(
        uow.connection.execute(
            select(func.count()).where(_ALLOWANCE_LINE, journal_lines.c.loan_id.is_(None))
        ).scalar_one()
    )


def any_provisions(uow: UnitOfWork) -> bool:
    """Whether close of business has provided for any month end yet."""
    return uow.connection.execute(select(loan_provisions.c.loan_id).limit(1)).first() is not None
