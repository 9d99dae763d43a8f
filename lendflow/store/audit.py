"""The reads of `audit verify` that the journal and event modules do not already offer:
counts and totals over the whole book, every loan's stored balances, and the sources a
loan's stored figures are recomputed from (events, journal postings, payouts, documents),
each read set-based, once or per id range, never per loan."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select

from lendflow.store import cob_marks
from lendflow.store.tables import (
    documents,
    events,
    instalments,
    journal_entries,
    journal_lines,
    loans,
    payouts,
)
from lendflow.store.uow import UnitOfWork


def journal_entry_count(uow: UnitOfWork) -> int:
    """How many journal entries have lines."""
    return int(
        uow.connection.execute(
            select(func.count(func.distinct(journal_lines.c.entry_id)))
        ).scalar_one()
    )


def journal_totals(uow: UnitOfWork) -> tuple[Any, Any]:
    """(total debits, total credits) over every journal line, as the database sums them."""
    debit, credit = uow.connection.execute(
        select(
            func.coalesce(func.sum(journal_lines.c.debit), 0),
            func.coalesce(func.sum(journal_lines.c.credit), 0),
        )
    ).one()
    return debit, credit


def principal_paid(uow: UnitOfWork) -> dict[int, Any]:
    """Principal paid on each loan's instalments, by loan id (loans with instalments only)."""
    return dict(
        uow.connection.execute(
            select(instalments.c.loan_id, func.sum(instalments.c.principal_paid)).group_by(
                instalments.c.loan_id
            )
        ).all()
    )


def loan_balances(uow: UnitOfWork, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Every loan's id, principal, amount written off and the balance `columns`, one at
    a time (the book may be large; read inside the audit's transaction)."""
    rows = uow.connection.execute(
        select(
            loans.c.id,
            loans.c.principal,
            loans.c.written_off_amount,
            *[loans.c[c] for c in columns],
        )
    ).mappings()
    for row in rows:
        yield dict(row)


def event_count(uow: UnitOfWork) -> int:
    return int(uow.connection.execute(select(func.count()).select_from(events)).scalar_one())


# --- the source of truth a loan's stored figures are recomputed from -------------------

LOAN_FACTS = (
    "id",
    "state",
    "product_version_id",
    "approved_amount",
    "principal",
    "term",
    "annual_rate",
    "disbursed_on",
    "cob_through",
    "dpd",
    "bucket",
    "classification",
    "own_classification",
    "held_since",
    "restructured_on",
    "interest_receivable",
    "fee_receivable",
    "penalty_receivable",
    "restructured_on",
    "accrual_start",
    "accrual_days",
    "accrual_interest",
    "accrual_waived",
    "interest_accrued",
    "non_accrual_since",
)


def loan_id_bounds(uow: UnitOfWork) -> tuple[int, int]:
    """(lowest, highest) loan id, (0, -1) for an empty book."""
    low, high = uow.connection.execute(select(func.min(loans.c.id), func.max(loans.c.id))).one()
    return (0, -1) if low is None else (int(low), int(high))


# ... and what a loan following its range's mark needs to derive its figures through it
_FOLLOWING_FACTS = ("follows_from", "principal_outstanding", "principal_days", "accrual_income")


def loans_between(uow: UnitOfWork, lo: int, hi: int) -> list[dict[str, Any]]:
    """The facts of every loan with an id in [lo, hi], by id, as of its range's mark if it
    follows one (`cob_marks.current_rows`)."""
    rows = uow.connection.execute(
        select(*[loans.c[c] for c in (*dict.fromkeys(LOAN_FACTS), *_FOLLOWING_FACTS)])
        .where(loans.c.id.between(lo, hi))
        .order_by(loans.c.id)
    ).mappings()
    return cob_marks.current_rows(uow, [dict(r) for r in rows])


def instalments_between(uow: UnitOfWork, lo: int, hi: int) -> dict[int, list[dict[str, Any]]]:
    """The instalments of the loans with an id in [lo, hi], by loan id, each by number."""
    rows = uow.connection.execute(
        select(instalments)
        .where(instalments.c.loan_id.between(lo, hi))
        .order_by(instalments.c.loan_id, instalments.c.n)
    ).mappings()
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["loan_id"], []).append(dict(row))
    return found


def last_loan_states(uow: UnitOfWork) -> dict[int, str]:
    """Each loan's status as its newest state-changing event left it, by loan id."""
    last = (
        select(func.max(events.c.id).label("id"))
        .where(events.c.entity == "loan", events.c.to_state.is_not(None))
        .group_by(events.c.entity_id)
        .subquery()
    )
    rows = uow.connection.execute(
        select(events.c.entity_id, events.c.to_state).join(last, events.c.id == last.c.id)
    ).all()
    return {int(entity_id): state for entity_id, state in rows}


def posted_by_loan(uow: UnitOfWork, kind: str, account: str) -> dict[int, int]:
    """Debits to `account` in journal entries of `kind`, net of the reversals of those
    entries (a backdated repayment or a reversal reprocesses a loan by reversing what was
    booked for it and booking it again), summed per loan."""
    reversed_entry = journal_entries.alias("reversed_entry")
    booked = uow.connection.execute(
        select(journal_lines.c.loan_id, func.sum(journal_lines.c.debit))
        .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
        .where(
            journal_entries.c.kind == kind,
            journal_lines.c.account == account,
            journal_lines.c.loan_id.is_not(None),
        )
        .group_by(journal_lines.c.loan_id)
    ).all()
    undone = uow.connection.execute(
        select(journal_lines.c.loan_id, func.sum(journal_lines.c.credit - journal_lines.c.debit))
        .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
        .join(reversed_entry, reversed_entry.c.id == journal_entries.c.reversal_of)
        .where(
            reversed_entry.c.kind == kind,
            journal_lines.c.account == account,
            journal_lines.c.loan_id.is_not(None),
        )
        .group_by(journal_lines.c.loan_id)
    ).all()
    totals = {int(loan_id): int(total or 0) for loan_id, total in booked}
    for loan_id, total in undone:
        totals[int(loan_id)] = totals.get(int(loan_id), 0) - int(total or 0)
    return totals


def credited_by_loan(uow: UnitOfWork, kind: str, account: str) -> dict[int, int]:
    """Credits to `account` in journal entries of `kind` (never reversed: a loan with a
    loan action is not reprocessed), summed per loan."""
    rows = uow.connection.execute(
        select(journal_lines.c.loan_id, func.sum(journal_lines.c.credit))
        .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
        .where(
            journal_entries.c.kind == kind,
            journal_lines.c.account == account,
            journal_lines.c.loan_id.is_not(None),
        )
        .group_by(journal_lines.c.loan_id)
    ).all()
    return {int(loan_id): int(total or 0) for loan_id, total in rows}


def entry_dates_by_loan(uow: UnitOfWork, kinds: Sequence[str]) -> set[tuple[int, date]]:
    """(loan id, business date) of every journal entry of `kinds` that moved a loan."""
    rows = uow.connection.execute(
        select(journal_lines.c.loan_id, journal_entries.c.business_date)
        .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
        .where(journal_entries.c.kind.in_(list(kinds)), journal_lines.c.loan_id.is_not(None))
        .distinct()
    ).all()
    return {(int(loan_id), on) for loan_id, on in rows}


def all_payouts(uow: UnitOfWork) -> list[dict[str, Any]]:
    rows = uow.connection.execute(
        select(payouts.c.id, payouts.c.loan_id, payouts.c.amount, payouts.c.status).order_by(
            payouts.c.id
        )
    ).mappings()
    return [dict(r) for r in rows]


def documents_after(uow: UnitOfWork, after_id: int, batch: int) -> list[dict[str, Any]]:
    """The next `batch` issued documents after id `after_id`, with their sealed content."""
    rows = uow.connection.execute(
        select(
            documents.c.id,
            documents.c.loan_id,
            documents.c.kind,
            documents.c.business_date,
            documents.c.sha256,
            documents.c.content_enc,
        )
        .where(documents.c.id > after_id)
        .order_by(documents.c.id)
        .limit(batch)
    ).mappings()
    return [dict(r) for r in rows]


def loans_with_document(uow: UnitOfWork, kind: str) -> set[int]:
    rows = uow.connection.execute(
        select(documents.c.loan_id).where(documents.c.kind == kind).distinct()
    ).all()
    return {int(r[0]) for r in rows if r[0] is not None}


def prepayments_by_loan(uow: UnitOfWork) -> dict[int, list[tuple[date, int]]]:
    """(business date, principal) of every prepayment entry, by loan, in booking order:
    the audit recalculates a loan's schedule from them. A loan with a prepayment is never
    reprocessed, so none of them is reversed."""
    rows = uow.connection.execute(
        select(journal_lines.c.loan_id, journal_entries.c.business_date, journal_lines.c.credit)
        .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
        .where(
            journal_entries.c.kind == "prepayment",
            journal_lines.c.account == "loan_principal",
            journal_lines.c.loan_id.is_not(None),
        )
        .order_by(journal_entries.c.id)
    ).all()
    found: dict[int, list[tuple[date, int]]] = {}
    for loan_id, on, credit in rows:
        found.setdefault(int(loan_id), []).append((on, int(credit)))
    return found


def account_balance(uow: UnitOfWork, account: str) -> int:
    """An account's debits less its credits over the whole journal."""
    net = uow.connection.execute(
        select(func.coalesce(func.sum(journal_lines.c.debit - journal_lines.c.credit), 0)).where(
            journal_lines.c.account == account
        )
    ).scalar_one()
    return int(net)
