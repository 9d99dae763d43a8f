"""`audit verify`: prove the books from the journal and the trail from the chain.

Checks that every journal entry balances, that every loan's stored balances
equal what its journal lines add up to, that instalment payments agree with
the principal the ledger says was repaid, and that the event chain is intact.
Every problem is returned, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.ledger import LOAN_BALANCES
from lendflow.domain.money import format_fen
from lendflow.store import audit as audit_store
from lendflow.store import events, journal
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


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
    report.entries_checked = audit_store.journal_entry_count(uow)
    report.problems += list(journal.unbalanced_entries(uow))
    debits, credits = audit_store.journal_totals(uow)
    if debits != credits:
        report.problems.append(f"journal: total debits {debits} != total credits {credits}")
    rebuilt = journal.rebuilt_loan_balances(uow)
    paid = audit_store.principal_paid(uow)
    columns = list(LOAN_BALANCES)
    for loan in audit_store.loan_balances(uow, columns):
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
    report.events_checked = audit_store.event_count(uow)
    report.problems += list(events.chain_problems(uow))
    return report
