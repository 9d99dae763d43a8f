"""Close-of-business journal entries: one per step, chunk and day, with lean lines.

A loan's balances are rebuilt from the lines that name it (`journal.rebuilt_loan_balances`
reads only the loan balance accounts), so the receivable side of a charge or a
penalty keeps one line per loan, while the income side, which no loan balance
reads, is one line per account for the whole entry. That halves the lines the
nightly sweep writes and keeps every loan's balances provable.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import insert

from lendflow.domain.ledger import Account, UnbalancedEntry
from lendflow.store.cob_queries import execute_rows, insert_over_arrays, unnest_on_postgresql
from lendflow.store.tables import journal_entries, journal_lines
from lendflow.store.uow import UnitOfWork

# (loan id or None for a line of the whole entry, account, debit, credit)
LedgerLine = tuple[int | None, Account, int, int]

_INSERT_ENTRY = insert(journal_entries).returning(journal_entries.c.id)
_INSERT_LINE = insert(journal_lines).inline()
_LINE_KEYS = ("entry_id", "loan_id", "account", "debit", "credit")
unnest_on_postgresql(_INSERT_LINE, insert_over_arrays(journal_lines, _LINE_KEYS))


def post_entry(
    uow: UnitOfWork, *, kind: str, lines: Iterable[LedgerLine], business_date: date, actor: str
) -> int | None:
    """Write one balanced entry of many loans' lines; nothing when there are no lines."""
    rows = [
        (loan_id, str(account), debit, credit)
        for loan_id, account, debit, credit in lines
        if debit or credit
    ]
    if not rows:
        return None
    debits = sum(r[2] for r in rows)
    credits = sum(r[3] for r in rows)
    if debits != credits:
        raise UnbalancedEntry(f"{kind}: debits {debits} != credits {credits}")
    entry_id = uow.connection.execute(
        _INSERT_ENTRY,
        {
            "loan_id": None,
            "kind": kind,
            "business_date": business_date,
            "idempotency_key": None,
            "actor": actor,
            "memo": "",
        },
    ).scalar_one()
    execute_rows(uow, _INSERT_LINE, _LINE_KEYS, [(entry_id, *row) for row in rows])
    return int(entry_id)
