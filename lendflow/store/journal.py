"""Posting balanced journal entries and rebuilding balances from them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, insert, select, union_all

from lendflow.domain.ledger import LOAN_BALANCES, Line
from lendflow.store import driver
from lendflow.store.tables import journal_entries, journal_lines, utc_now
from lendflow.store.uow import UnitOfWork

ENTRIES = journal_entries
LINES = journal_lines

_INSERT_ENTRY = insert(ENTRIES).returning(ENTRIES.c.id)
_LAST_MOVEMENT = select(func.max(ENTRIES.c.business_date).label("last")).where(
    ENTRIES.c.loan_id == bindparam("loan_id"), ENTRIES.c.kind.in_(("disbursement", "repayment"))
)
_INSERT_LINE = insert(LINES).inline()
_ENTRY_COLUMNS = (
    "loan_id", "kind", "business_date", "idempotency_key", "actor", "memo", "created_at",
    "reversal_of",
)  # fmt: skip
_LINE_COLUMNS = ("account", "debit", "credit")
# On PostgreSQL an entry and its lines are one statement (the entry inserted in a WITH
# clause, the lines selected from it), one per number of lines: a round trip less for
# every entry, on a server where each costs both processes time.
_POST_STATEMENTS: dict[int, Any] = {}


def _post_statement(count: int) -> Any:
    found = _POST_STATEMENTS.get(count)
    if found is None:
        entry = (
            insert(ENTRIES)
            .values({c: bindparam(c, type_=ENTRIES.c[c].type) for c in _ENTRY_COLUMNS})
            .returning(ENTRIES.c.id, ENTRIES.c.loan_id)
            .cte("entry")
        )
        rows = [
            select(
                entry.c.id,
                entry.c.loan_id,
                *(bindparam(f"{c}_{i}", type_=LINES.c[c].type) for c in _LINE_COLUMNS),
            )
            for i in range(count)
        ]
        lines = rows[0] if count == 1 else union_all(*rows)
        found = _POST_STATEMENTS[count] = (
            insert(LINES)
            .from_select(["entry_id", "loan_id", *_LINE_COLUMNS], lines)
            .returning(LINES.c.entry_id)
        )
    return found


def post(
    uow: UnitOfWork,
    *,
    kind: str,
    lines: list[Line],
    business_date: date,
    actor: str,
    loan_id: int | None,
    idempotency_key: str | None = None,
    memo: str = "",
    reversal_of: int | None = None,
) -> int:
    """Write one entry and its lines (already checked balanced); returns the entry id."""
    entry = {
        "loan_id": loan_id,
        "kind": kind,
        "business_date": business_date,
        "idempotency_key": idempotency_key,
        "actor": actor,
        "memo": memo[:200],
        "reversal_of": reversal_of,
    }
    if uow.dialect == "postgresql" and lines:
        entry["created_at"] = utc_now()
        for i, line in enumerate(lines):
            entry.update({f"account_{i}": str(line.account), f"debit_{i}": line.debit})
            entry[f"credit_{i}"] = line.credit
        return int(driver.scalar(uow, _post_statement(len(lines)), entry))
    entry_id = driver.scalar(uow, _INSERT_ENTRY, entry)
    driver.execute_many(
        uow,
        _INSERT_LINE,
        [
            {
                "entry_id": entry_id,
                "loan_id": loan_id,
                "account": str(line.account),
                "debit": line.debit,
                "credit": line.credit,
            }
            for line in lines
        ],
    )
    return int(entry_id)


def unbalanced_entries(uow: UnitOfWork) -> Iterator[str]:
    rows = uow.connection.execute(
        select(LINES.c.entry_id, func.sum(LINES.c.debit), func.sum(LINES.c.credit))
        .group_by(LINES.c.entry_id)
        .having(func.sum(LINES.c.debit) != func.sum(LINES.c.credit))
    )
    for entry_id, debit, credit in rows:
        yield f"journal entry {entry_id}: debits {debit} != credits {credit}"


def rebuilt_loan_balances(uow: UnitOfWork) -> dict[int, dict[str, int]]:
    """Every loan's balance columns as the journal says they should be."""
    by_account = {
        account.value: (column, sign) for column, (account, sign) in LOAN_BALANCES.items()
    }
    rows = uow.connection.execute(
        select(LINES.c.loan_id, LINES.c.account, func.sum(LINES.c.debit - LINES.c.credit))
        .where(LINES.c.loan_id.is_not(None))
        .group_by(LINES.c.loan_id, LINES.c.account)
    )
    balances: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LOAN_BALANCES, 0))
    for loan_id, account, net in rows:
        target = by_account.get(account)
        if target:
            column, sign = target
            balances[loan_id][column] += sign * int(net)
    return balances


def last_movement(uow: UnitOfWork, loan_id: int) -> date | None:
    """The business date of the loan's latest payout or repayment."""
    found: date | None = driver.scalar(uow, *last_movement_read(loan_id))
    return found


def last_movement_read(loan_id: int) -> tuple[Any, dict[str, Any]]:
    """`last_movement` as a read to send with others (`driver.together`): one row, `last`."""
    return _LAST_MOVEMENT, {"loan_id": loan_id}


def standing_entries(uow: UnitOfWork, loan_id: int, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """The loan's entries of `kinds` neither reversed nor reversals, in the order posted.

    Each with its lines that name the loan (a close-of-business entry also has
    income lines for the whole chunk, which name no loan): `lines` as
    (account, debit, credit). A chunk's entry is reversed one loan at a time, so an
    entry counts as reversed for this loan only by a reversal that names this loan.
    """
    reversed_here = select(ENTRIES.c.reversal_of).where(
        ENTRIES.c.reversal_of.is_not(None), ENTRIES.c.loan_id == loan_id
    )
    rows = uow.connection.execute(
        select(
            ENTRIES.c.id,
            ENTRIES.c.kind,
            ENTRIES.c.business_date,
            ENTRIES.c.loan_id,
            ENTRIES.c.idempotency_key,
            ENTRIES.c.memo,
            LINES.c.account,
            LINES.c.debit,
            LINES.c.credit,
        )
        .join(LINES, LINES.c.entry_id == ENTRIES.c.id)
        .where(
            LINES.c.loan_id == loan_id,
            ENTRIES.c.kind.in_(kinds),
            ENTRIES.c.reversal_of.is_(None),
            ENTRIES.c.id.not_in(reversed_here.scalar_subquery()),
        )
        .order_by(ENTRIES.c.id, LINES.c.id)
    ).all()
    entries: dict[int, dict[str, Any]] = {}
    for entry_id, kind, day, owner, key, memo, account, debit, credit in rows:
        entry = entries.setdefault(
            entry_id,
            {
                "id": entry_id,
                "kind": kind,
                "business_date": day,
                "loan_id": owner,
                "idempotency_key": key,
                "memo": memo,
                "lines": [],
            },
        )
        entry["lines"].append((account, int(debit), int(credit)))
    return list(entries.values())


def loan_balances(
    uow: UnitOfWork,
    loan_id: int,
    *,
    before: date | None = None,
    leaving_out: tuple[str, ...] = (),
) -> dict[str, int]:
    """One loan's balance columns as its journal lines say they should be.

    `before`: from the entries dated before that day only; `leaving_out`: without the
    entries of those kinds.
    """
    by_account = {
        account.value: (column, sign) for column, (account, sign) in LOAN_BALANCES.items()
    }
    query = (
        select(LINES.c.account, func.sum(LINES.c.debit - LINES.c.credit))
        .join(ENTRIES, ENTRIES.c.id == LINES.c.entry_id)
        .where(LINES.c.loan_id == loan_id)
    )
    if before is not None:
        query = query.where(ENTRIES.c.business_date < before)
    if leaving_out:
        query = query.where(ENTRIES.c.kind.not_in(leaving_out))
    rows = uow.connection.execute(query.group_by(LINES.c.account))
    balances = dict.fromkeys(LOAN_BALANCES, 0)
    for account, net in rows:
        target = by_account.get(account)
        if target:
            column, sign = target
            balances[column] += sign * int(net)
    return balances


def loan_entries(
    uow: UnitOfWork, loan_id: int, offset: int = 0, limit: int | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """One page of the entries with a line naming the loan, oldest first, and how many
    there are in all (counted, not paged).

    Each entry has its lines that name the loan (`lines`: account, debit, credit) and
    `reversed_by`, the later entry that reversed it for this loan (a chunk's entry is
    reversed one loan at a time, so only a reversal naming this loan counts).
    """
    naming = LINES.c.loan_id == loan_id
    total = uow.connection.execute(
        select(func.count(func.distinct(LINES.c.entry_id))).where(naming)
    ).scalar()
    page = select(LINES.c.entry_id).where(naming).distinct().order_by(LINES.c.entry_id)
    ids = [row[0] for row in uow.connection.execute(page.offset(offset).limit(limit))]
    if not ids:
        return int(total or 0), []
    entries = {
        row["id"]: {**row, "lines": [], "reversed_by": None}
        for row in uow.connection.execute(
            select(
                ENTRIES.c.id,
                ENTRIES.c.kind,
                ENTRIES.c.business_date,
                ENTRIES.c.actor,
                ENTRIES.c.memo,
                ENTRIES.c.idempotency_key,
                ENTRIES.c.reversal_of,
            )
            .where(ENTRIES.c.id.in_(ids))
            .order_by(ENTRIES.c.id)
        ).mappings()
    }
    lines = uow.connection.execute(
        select(LINES.c.entry_id, LINES.c.account, LINES.c.debit, LINES.c.credit)
        .where(LINES.c.entry_id.in_(ids), naming)
        .order_by(LINES.c.id)
    )
    for entry_id, account, debit, credit in lines:
        entries[entry_id]["lines"].append((account, int(debit), int(credit)))
    reversals = uow.connection.execute(
        select(ENTRIES.c.id, ENTRIES.c.reversal_of)
        .where(ENTRIES.c.reversal_of.in_(ids), ENTRIES.c.loan_id == loan_id)
        .order_by(ENTRIES.c.id)
    )
    for reversal_id, reversed_id in reversals:
        entries[reversed_id]["reversed_by"] = entries[reversed_id]["reversed_by"] or reversal_id
    return int(total or 0), list(entries.values())
