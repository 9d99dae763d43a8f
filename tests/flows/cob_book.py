"""A generated book of a few thousand loans for close of business on workers, and what to compare.

The book is the benchmark's (`benchmarks.bench_cob.generate`): active loans of six
monthly instalments, one in twenty behind, closed through two days before
`AS_OF`. Closing the last two dates makes loans fall overdue, accrue penalty,
age, change class and reach notice milestones, so every part of the book moves.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select

from benchmarks.bench_cob import AS_OF, generate
from lendflow.store.cob_marks import CLOSED_THROUGH
from lendflow.store.tables import events, instalments, journal_lines, loans, notices

LOANS = 3000
CHUNK = 250
FIRST = AS_OF - timedelta(days=1)
LAST = AS_OF
TODAY = AS_OF + timedelta(days=1)


def make_book(home: Path, count: int = LOANS) -> None:
    generate(home, count)


def book(home: Path) -> dict[str, Any]:
    """What an operator would compare: each loan, penalties, journal totals, events, notices."""
    engine = create_engine(f"sqlite:///{home / 'lendflow.db'}")
    with engine.connect() as c:
        loan_rows = c.execute(
            select(
                loans.c.id,
                loans.c.state,
                loans.c.principal_outstanding,
                loans.c.interest_receivable,
                loans.c.fee_receivable,
                loans.c.penalty_receivable,
                loans.c.dpd,
                loans.c.bucket,
                loans.c.classification,
                CLOSED_THROUGH,
            ).order_by(loans.c.id)
        ).all()
        penalty = c.execute(select(func.sum(instalments.c.penalty))).scalar_one()
        journal = c.execute(
            select(
                journal_lines.c.account,
                func.sum(journal_lines.c.debit),
                func.sum(journal_lines.c.credit),
            )
            .group_by(journal_lines.c.account)
            .order_by(journal_lines.c.account)
        ).all()
        event_count = c.execute(select(func.count()).select_from(events)).scalar_one()
        notice_rows = c.execute(
            select(notices.c.loan_id, notices.c.dpd, notices.c.kind).order_by(notices.c.loan_id)
        ).all()
    engine.dispose()
    return {
        "loans": [tuple(r) for r in loan_rows],
        "instalment_penalty": penalty,
        "journal": [tuple(r) for r in journal],
        "events": event_count,
        "notices": [tuple(r) for r in notice_rows],
    }


def run_parameters() -> dict[str, Any]:
    return {"as_of": FIRST, "to": LAST, "actor": "ops", "chunk_size": CHUNK, "today": TODAY}
