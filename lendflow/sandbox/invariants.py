"""What must hold of the whole sandbox book once the tests have driven it.

Each invariant is a named check over every loan, not a sample: the audit is
clean, every schedule repays exactly its principal, every loan is in a status
of the loan machine and got there by moves the machine allows, and every
balance is what the journal adds up to.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from lendflow.domain.criteria import Criterion
from lendflow.domain.ledger import LOAN_BALANCES
from lendflow.domain.money import format_grouped
from lendflow.loans import audit
from lendflow.sandbox.workspace import guarded
from lendflow.states.machine import machine
from lendflow.store import book_checks, journal
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

INVARIANT_CHECKS = (
    "audit_verify_clean",
    "schedules_sum_to_principal",
    "states_in_loan_machine",
    "balances_equal_journal",
)
SHOWN_PROBLEMS = 5


def _problems(figure: str, problems: list[str]) -> str:
    shown = problems[:SHOWN_PROBLEMS]
    more = len(problems) - len(shown)
    return "; ".join([figure, *shown, *([f"and {more} more"] if more else [])])


def audit_verify_clean(ws: Workspace) -> Criterion:
    """`audit verify` on the sandbox: journal balanced, balances match, chain intact."""
    report = audit.verify(ws, ws.actor("auditor"))
    figure = (
        f"{report.loans_checked} loans, {report.entries_checked} journal entries and"
        f" {report.events_checked} events checked: "
        + ("no problem" if report.ok else f"{len(report.problems)} problems")
    )
    return Criterion("audit_verify_clean", report.ok, _problems(figure, report.problems))


def schedules_sum_to_principal(ws: Workspace) -> Criterion:
    """Every paid-out loan's instalments repay exactly the principal lent."""
    rows = run_in_transaction(ws.engine, book_checks.scheduled_principal)
    problems = [
        f"loan {loan_id}: schedule repays {format_grouped(scheduled)} of {format_grouped(lent)}"
        for loan_id, lent, scheduled in rows
        if scheduled != lent
    ]
    figure = (
        f"{len(rows)} paid-out loans, {format_grouped(sum(r[1] for r in rows))} lent: each"
        " schedule's principal sums to its loan"
        if rows
        else "no loan was paid out: no schedule to check"
    )
    ok = bool(rows) and not problems
    return Criterion("schedules_sum_to_principal", ok, _problems(figure, problems))


def states_in_loan_machine(ws: Workspace) -> Criterion:
    """Every loan is in a status of the loan machine, and every recorded move is one of
    its transitions."""
    definition = machine("loan")
    legal = set(definition.definition.state_names)

    def read(uow: UnitOfWork) -> tuple[list[tuple[int, str]], list[tuple[str, str, str, str]]]:
        return book_checks.loan_states(uow), book_checks.loan_moves(uow)

    held, moves = run_in_transaction(ws.engine, read)
    problems = [
        f"loan {i} is {state}, no status of the loan machine"
        for i, state in held
        if state not in legal
    ]
    initial = definition.definition.initial
    for loan_id, trigger, source, dest in moves:
        allowed = definition.table.get((source, trigger))
        if not source and dest == initial:
            continue  # the application itself: the machine's initial status
        if allowed != dest:
            problems.append(f"loan {loan_id}: {source} --{trigger}--> {dest} is not a transition")
    counts = Counter(state for _, state in held)
    figure = (
        f"{len(held)} loans in {len(counts)} statuses ("
        + ", ".join(f"{state} {n}" for state, n in sorted(counts.items()))
        + f"), all of the loan machine; {len(moves)} recorded moves, each one of its transitions"
    )
    return Criterion(
        "states_in_loan_machine", bool(held) and not problems, _problems(figure, problems)
    )


def balances_equal_journal(ws: Workspace) -> Criterion:
    """Every loan's stored balances equal what its journal lines add up to, and the journal
    balances (debits = credits)."""
    columns = list(LOAN_BALANCES)

    def read(uow: UnitOfWork) -> tuple[list[dict[str, int]], dict[int, dict[str, int]], int, int]:
        stored = book_checks.loan_balances(uow, columns)
        debits, credits = book_checks.journal_totals(uow)
        return stored, journal.rebuilt_loan_balances(uow), debits, credits

    stored, rebuilt, debits, credits = run_in_transaction(ws.engine, read)
    problems = []
    for loan in stored:
        expected = rebuilt.get(loan["id"], dict.fromkeys(columns, 0))
        problems += [
            f"loan {loan['id']}: {column} is {format_grouped(loan[column])}, the journal says"
            f" {format_grouped(expected[column])}"
            for column in columns
            if loan[column] != expected[column]
        ]
    if debits != credits:
        problems.append(
            f"journal debits {format_grouped(debits)} != credits {format_grouped(credits)}"
        )
    figure = (
        f"{len(stored)} loans × {len(columns)} balances ({', '.join(columns)}) equal to the"
        f" journal's rebuild; journal debits = credits = {format_grouped(debits)}"
        if not problems
        else f"{len(stored)} loans × {len(columns)} balances held against the journal"
    )
    return Criterion(
        "balances_equal_journal", bool(stored) and not problems, _problems(figure, problems)
    )


def invariant_checks(ws: Workspace) -> list[Criterion]:
    """Every invariant, each guarded: one that breaks fails alone."""
    found = {
        "audit_verify_clean": audit_verify_clean,
        "schedules_sum_to_principal": schedules_sum_to_principal,
        "states_in_loan_machine": states_in_loan_machine,
        "balances_equal_journal": balances_equal_journal,
    }
    return [guarded(name, lambda check=check: check(ws)) for name, check in found.items()]
