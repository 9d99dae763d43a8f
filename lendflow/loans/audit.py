"""`audit verify`: prove the books from the journal and the trail from the chain.

Checks that every journal entry balances, that every loan's stored balances
equal what its journal lines add up to, that instalment payments agree with
the principal the ledger says was repaid, and that the event chain is intact.
Every problem is returned, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.ledger import LOAN_BALANCES
from lendflow.domain.money import format_fen
from lendflow.store import events, journal
from lendflow.store.tables import instalments, journal_lines, loans
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

LOANS = loans
INSTALMENTS = instalments
LINES = journal_lines


@dataclass
class AuditReport:
    loans_checked: int = 0
    entries_checked: int = 0
    events_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "loans_checked": self.loans_checked,
            "journal_entries_checked": self.entries_checked,
            "events_checked": self.events_checked,
            "problems": self.problems,
        }


def verify(ws: Workspace, actor: Actor) -> AuditReport:
    actor.require(Permission.AUDIT, "run the audit")
    return run_in_transaction(ws.engine, _verify)


def _verify(uow: UnitOfWork) -> AuditReport:
    report = AuditReport()
    conn = uow.connection
    report.entries_checked = conn.execute(
        select(func.count(func.distinct(LINES.c.entry_id)))
    ).scalar_one()
    report.problems += list(journal.unbalanced_entries(uow))
    totals = conn.execute(
        select(
            func.coalesce(func.sum(LINES.c.debit), 0), func.coalesce(func.sum(LINES.c.credit), 0)
        )
    ).one()
    if totals[0] != totals[1]:
        report.problems.append(f"journal: total debits {totals[0]} != total credits {totals[1]}")
    rebuilt = journal.rebuilt_loan_balances(uow)
    paid = dict(
        conn.execute(
            select(INSTALMENTS.c.loan_id, func.sum(INSTALMENTS.c.principal_paid)).group_by(
                INSTALMENTS.c.loan_id
            )
        ).all()
    )
    columns = list(LOAN_BALANCES)
    for loan in conn.execute(
        select(
            LOANS.c.id,
            LOANS.c.principal,
            LOANS.c.written_off_amount,
            *[LOANS.c[c] for c in columns],
        )
    ).mappings():
        report.loans_checked += 1
        expected = rebuilt.get(loan["id"], dict.fromkeys(columns, 0))
        for column in columns:
            if loan[column] != expected[column]:
                report.problems.append(
                    f"loan {loan['id']}: {column} is {format_fen(loan[column])} but the journal"
                    f" says {format_fen(expected[column])}"
                )
        repaid = int(paid.get(loan["id"]) or 0)
        booked = loan["principal"] - expected["principal_outstanding"] - loan["written_off_amount"]
        if loan["principal"] and repaid != booked:
            report.problems.append(
                f"loan {loan['id']}: instalments show {format_fen(repaid)} principal repaid but the"
                f" journal shows {format_fen(booked)}"
            )
    report.events_checked = conn.execute(
        select(func.count()).select_from(events.EVENTS)
    ).scalar_one()
    report.problems += list(events.chain_problems(uow))
    return report
