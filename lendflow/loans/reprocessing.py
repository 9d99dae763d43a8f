"""Reprocess one loan inside the caller's transaction: reverse, rebuild, book again.

Used by a backdated repayment (money that arrived on a closed day) and by a reversed
repayment. The loan and its instalments go back to how the payout left them, its days
and repayments before the value date are rebuilt on the rows only (their entries and
events stand), every entry booked for it from the value date on is reversed by a new
entry naming it (`reversal_of`, never a deletion), and its repayments (with the new
one, or without the reversed one) and closed days from then on are booked again in
order (`domain.reprocessing`), through the same repayment rules and the same
close-of-business steps as the first time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Conflict, Refused
from lendflow.domain.ledger import LOAN_BALANCES, Account, EntryDraft
from lendflow.domain.loan_actions import ACTION_ENTRY_KINDS
from lendflow.domain.reprocessing import (
    REPROCESSED_KINDS,
    Payment,
    Step,
    replay_steps,
    reversal_lines,
)
from lendflow.domain.statuses import LoanStatus
from lendflow.loans.records import accrual_columns, loan_event
from lendflow.products.catalogue import spec_for
from lendflow.store import events, journal
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

REPROCESSABLE = frozenset({LoanStatus.ACTIVE, LoanStatus.OVERDUE})

# Booking a loan again starts from the status it had on the value date, which may not be
# the one its trail last told (a backdated payment finds it current on a day it was
# later overdue): the change is told as the loan machine's moves.
_NET_MOVES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("active", "overdue"): [("fall_overdue", "overdue")],
    ("overdue", "active"): [("cure", "active")],
    ("active", "closed"): [("close", "closed")],
    ("overdue", "closed"): [("close", "closed")],
    ("overdue", "written_off"): [("write_off", "written_off")],
    ("active", "written_off"): [("fall_overdue", "overdue"), ("write_off", "written_off")],
}
"""A closed or written-off loan is not reprocessed: a settled loan's waivers and a
write-off's recoveries cannot be told apart from the payout's once booked."""

PostRepayment = Callable[
    [UnitOfWork, dict[str, Any], list[dict[str, Any]], int, date, str, bool], dict[str, Any]
]
"""Posts one repayment (row, instalments, amount, date, reference, quiet); returns the row.
A quiet one rebuilds the rows only: its entries and events stand."""

BALANCES = tuple(LOAN_BALANCES)
CHUNK_KINDS = ("charges_due", "penalty", "provision")
"""Close-of-business entries of a whole chunk, whose counterpart line names no loan."""


def reference_of(entry: dict[str, Any]) -> str:
    """A repayment entry's reference: its memo, else its key without the operation."""
    if entry["memo"]:
        return str(entry["memo"])
    key = entry["idempotency_key"] or f"entry-{entry['id']}"
    return str(key).split(":", 1)[-1]


def repayments_of(uow: UnitOfWork, loan_id: int) -> list[Payment]:
    """The loan's standing repayments, in the order they were posted."""
    payments = []
    for entry in journal.standing_entries(uow, loan_id, ("repayment",)):
        cash = sum(debit for account, debit, _ in entry["lines"] if account == "cash")
        payments.append(Payment(entry["business_date"], cash, reference_of(entry)))
    return payments


def reprocess(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    loan: dict[str, Any],
    payments: list[Payment],
    post: PostRepayment,
    *,
    changed_on: date,
    reason: str,
) -> dict[str, Any]:
    """Book the loan again from `changed_on` with `payments` as its repayments; the new row.

    The rows go back to how the payout left them and the days and payments before
    `changed_on` are rebuilt quietly (their entries and events stand); the loan's
    books must then agree with its journal before that day. Then everything booked
    from `changed_on` on is reversed and booked again. A loan whose earlier history does
    not rebuild to its books (booked under older rules) is rebuilt from its payout
    instead: everything since is reversed and booked again.
    """
    if loan["state"] not in REPROCESSABLE:
        raise Refused(
            f"loan {loan['id']} is {loan['state']}; only an active or overdue loan is"
            " reprocessed (post a recovery or a refund on its open business date instead)"
        )
    loan_id = loan["id"]
    actions = journal.standing_entries(uow, loan_id, ACTION_ENTRY_KINDS)
    if actions or loan.get("accelerated_on") or loan.get("restructured_on"):
        done = sorted({entry["kind"] for entry in actions}) or ["acceleration or restructure"]
        raise Refused(
            f"loan {loan_id} has a {', '.join(done)} booked; it cannot be reprocessed"
            " (post the money on its open business date instead)"
        )
    closed_through: date = loan["cob_through"]
    steps = replay_steps(payments, loan["disbursed_on"], closed_through)
    start = changed_on
    accrued_before: int = loan.get("accrual_income") or 0
    row = _rebuild(ws, uow, actor, _reset(uow, loan), steps, post, until=start)
    if _books(row) != journal.loan_balances(uow, loan_id, before=start):
        start = loan["disbursed_on"]
        row = _reset(uow, row)
    reversed_count = _reverse_from(uow, actor, loan_id, start)
    reversed_count += _reverse_accrual(
        uow, actor, loan_id, start, accrued_before - row["accrual_income"]
    )
    payload = {
        "from": start.isoformat(),
        "to": closed_through.isoformat(),
        "value_date": changed_on.isoformat(),
        "entries_reversed": reversed_count,
        "repayments": len(payments),
        "reason": reason,
    }
    _tell_restart(uow, actor, row, changed_on, payload)
    row = _rebuild(ws, uow, actor, row, [s for s in steps if s.on >= start], post)
    if _books(row) != journal.loan_balances(uow, loan_id):  # pragma: no cover - a bug
        raise Conflict(f"loan {loan_id}: reprocessing left its balances apart from its journal")
    return row


def _tell_restart(
    uow: UnitOfWork, actor: Actor, row: dict[str, Any], on: date, payload: dict[str, Any]
) -> None:
    """`LoanReprocessed`, moving the trail to the status the loan is booked again from.

    The days and payments booked again after it tell their own moves (a cure, a payoff)
    from that status on, so the trail's last status is always the loan's.
    """
    told = events.last_state(uow, "loan", str(row["id"])) or row["state"]
    moves = _NET_MOVES.get((told, row["state"]), [])
    if not moves:
        loan_event(uow, row, "LoanReprocessed", actor, on, payload)
    for trigger, to_state in moves:
        loan_event(
            uow,
            row,
            "LoanReprocessed",
            actor,
            on,
            payload,
            trigger=trigger,
            from_state=told,
            to_state=to_state,
        )
        told = to_state


def _books(row: dict[str, Any]) -> dict[str, int]:
    return {column: row[column] for column in BALANCES}


def _rebuild(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    row: dict[str, Any],
    steps: list[Step],
    post: PostRepayment,
    until: date | None = None,
) -> dict[str, Any]:
    """Book `steps` again (before `until`: quietly, rows only); the loan row after them."""
    loan_id = row["id"]
    for step in steps:
        if until is not None and step.on >= until:
            break
        quiet = until is not None
        if step.payment is None:
            ws.close_loan_days(ws, uow, loan_id, step.on, step.on, actor.name, quiet)
            row = loan_store.get(uow, loan_id, for_update=True)
            continue
        rows = loan_store.instalments(uow, loan_id)
        row = post(uow, row, rows, step.payment.amount, step.on, step.payment.reference, quiet)
    return loan_store.get(uow, loan_id, for_update=True)


def _reverse_from(uow: UnitOfWork, actor: Actor, loan_id: int, start: date) -> int:
    """Reverse every standing entry booked for the loan from `start` on; how many."""
    entries = [
        e
        for e in journal.standing_entries(uow, loan_id, REPROCESSED_KINDS)
        if e["business_date"] >= start
    ]
    for entry in entries:
        whole_chunk = entry["loan_id"] is None and entry["kind"] in CHUNK_KINDS
        journal.post(
            uow,
            kind="reversal",
            lines=reversal_lines(entry["lines"], whole_chunk),
            business_date=entry["business_date"],
            actor=actor.name,
            loan_id=loan_id,
            memo=f"reverses {entry['kind']} entry {entry['id']}",
            reversal_of=entry["id"],
        )
    return len(entries)


def _reverse_accrual(uow: UnitOfWork, actor: Actor, loan_id: int, start: date, amount: int) -> int:
    """Take back the interest close of business accrued to income for the loan from
    `start` on (its nightly entries name no loan: the amount is what its row counted);
    the days booked again accrue it anew. How many entries (0 or 1)."""
    if not amount:
        return 0
    lines = (
        EntryDraft("reversal")
        .debit(Account.INTEREST_INCOME, max(amount, 0))
        .credit(Account.INTEREST_ACCRUED, max(amount, 0))
        .debit(Account.INTEREST_ACCRUED, max(-amount, 0))
        .credit(Account.INTEREST_INCOME, max(-amount, 0))
        .lines()
    )
    journal.post(
        uow,
        kind="reversal",
        lines=lines,
        business_date=start,
        actor=actor.name,
        loan_id=loan_id,
        memo="reverses the interest accrued from this date",
    )
    return 1


def _reset(uow: UnitOfWork, loan: dict[str, Any]) -> dict[str, Any]:
    """The loan as its payout left it: balances from its payout's entries, nothing closed."""
    spec = spec_for(uow, loan)
    rules = spec.delinquency
    for item in loan_store.instalments(uow, loan["id"]):
        loan_store.update_instalment(
            uow,
            item["id"],
            {
                "principal_paid": 0,
                "interest_paid": 0,
                "fee_paid": 0,
                "penalty_paid": 0,
                "penalty": 0,
                "paid_on": None,
                "recognised": item["n"] == 0,  # an upfront fee is recognised at payout
            },
        )
    at_payout = journal.loan_balances(uow, loan["id"], leaving_out=(*REPROCESSED_KINDS, "reversal"))
    started = loan.get("restructured_on") or loan["disbursed_on"]
    accrual = accrual_columns(loan_store.instalments(uow, loan["id"]), started)
    return loan_store.save(
        uow,
        loan,
        {
            **at_payout,
            "state": LoanStatus.ACTIVE.value,
            "dpd": 0,
            "bucket": rules.buckets[0].name,
            "classification": rules.classification[0].code,
            "own_classification": None,
            "cob_through": loan["disbursed_on"] - timedelta(days=1),
            "closed_on": None,
            "principal_days": 0,  # each day closed again adds its balance back
            "overdue_principal_days": 0,  # ... and what was past due
            "held_since": None,
            **accrual,  # accrual runs again from the first period
            "interest_accrued": 0,
            "accrual_income": 0,
            "non_accrual_since": None,
        },
    )
