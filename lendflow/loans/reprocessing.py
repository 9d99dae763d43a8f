"""Reprocess one loan inside the caller's transaction: reverse, rebuild, book again.

Used by a backdated repayment (money that arrived on a closed day) and by a reversed
repayment. Every entry booked for the loan after its payout is reversed by a new
entry naming it (`reversal_of`); the loan and its instalments go back to how the
payout left them; then its repayments (with the new one, or without the reversed
one) and its closed days are booked again in order (`domain.reprocessing`), through
the same repayment rules and the same close-of-business steps as the first time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor
from lendflow.domain.errors import Refused
from lendflow.domain.reprocessing import (
    REPROCESSED_KINDS,
    Payment,
    replay_steps,
    reversal_lines,
)
from lendflow.domain.statuses import LoanStatus
from lendflow.loans.records import loan_event
from lendflow.products.catalogue import spec_for
from lendflow.store import journal
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

REPROCESSABLE = frozenset({LoanStatus.ACTIVE, LoanStatus.OVERDUE})
"""A closed or written-off loan is not reprocessed: a settled loan's waivers and a
write-off's recoveries cannot be told apart from the payout's once booked."""

PostRepayment = Callable[
    [UnitOfWork, dict[str, Any], list[dict[str, Any]], int, date, str], dict[str, Any]
]
"""Posts one repayment (row, instalments, amount, date, reference); returns the loan row."""


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
    """Rebuild the loan from its payout with `payments` as its repayments; the new row.

    `changed_on` is the value date that made it necessary (the payment's, or the
    reversed one's): the event names it with the days booked again.
    """
    if loan["state"] not in REPROCESSABLE:
        raise Refused(
            f"loan {loan['id']} is {loan['state']}; only an active or overdue loan is"
            " reprocessed (post a recovery or a refund on its open business date instead)"
        )
    loan_id = loan["id"]
    closed_through: date = loan["cob_through"]
    reversed_count = _reverse_all(uow, actor, loan_id)
    row = _reset(uow, loan)
    for step in replay_steps(payments, loan["disbursed_on"], closed_through):
        if step.payment is None:
            ws.close_loan_days(ws, uow, loan_id, step.on, step.on, actor.name)
            row = loan_store.get(uow, loan_id, for_update=True)
            continue
        rows = loan_store.instalments(uow, loan_id)
        row = post(uow, row, rows, step.payment.amount, step.on, step.payment.reference)
    row = loan_store.get(uow, loan_id, for_update=True)
    loan_event(
        uow,
        row,
        "LoanReprocessed",
        actor,
        changed_on,
        {
            "from": changed_on.isoformat(),
            "to": closed_through.isoformat(),
            "rebuilt_from": loan["disbursed_on"].isoformat(),
            "entries_reversed": reversed_count,
            "repayments": len(payments),
            "reason": reason,
        },
    )
    return row


def _reverse_all(uow: UnitOfWork, actor: Actor, loan_id: int) -> int:
    """Reverse every standing entry booked for the loan since its payout; how many."""
    entries = journal.standing_entries(uow, loan_id, REPROCESSED_KINDS)
    for entry in entries:
        whole_chunk = entry["loan_id"] is None and entry["kind"] in ("charges_due", "penalty")
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


def _reset(uow: UnitOfWork, loan: dict[str, Any]) -> dict[str, Any]:
    """The loan as its payout left it: balances from its journal, current, nothing closed."""
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
    return loan_store.save(
        uow,
        loan,
        {
            **journal.loan_balances(uow, loan["id"]),
            "state": LoanStatus.ACTIVE.value,
            "dpd": 0,
            "bucket": rules.buckets[0].name,
            "classification": rules.classification[0].code,
            "cob_through": loan["disbursed_on"] - timedelta(days=1),
            "closed_on": None,
        },
    )
