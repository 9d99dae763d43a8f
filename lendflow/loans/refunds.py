"""Refunding a credit balance (money the borrower paid beyond what they owed) at the
borrower's request, through the payment gateway.

Paying out is I/O that cannot sit inside a database transaction, so, as a disbursement,
it runs in three short steps: (1) record a pending refund under its reference, reserving
the amount from the loan's credit balance, (2) ask the gateway to pay that reference,
(3) in one transaction book it (credit balance debited, cash credited), mark it paid and
append the event. The gateway pays a reference once, so a retry after a timeout, a
decline or a crash between the steps (kill -9 at `refund.after_gateway`) never pays
twice; the same reference asked again answers with the first refund. A refund is never
more than the credit balance less the refunds still pending on the loan.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain import bounds
from lendflow.domain.business_date import check_horizon
from lendflow.domain.errors import KeyReused, Refused
from lendflow.domain.ledger import Account, EntryDraft, balance_changes
from lendflow.domain.money import format_fen
from lendflow.domain.statuses import DISBURSED, OUTSTANDING
from lendflow.loans.records import loan_event, not_before
from lendflow.loans.repayments import check_not_backdated
from lendflow.loans.results import RefundResult, RefundView
from lendflow.loans.views import loan_view, replay_of, storable
from lendflow.store import idempotency, journal
from lendflow.store import loans as loan_store
from lendflow.store import refunds as refund_store
from lendflow.store.uow import UnitOfWork, run_in_transaction
from lendflow.workspace.faults import fault_point
from lendflow.workspace.payments import GatewayError, PayoutReceipt

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

OPERATION = "refund"


def gateway_reference(loan_id: int, reference: str) -> str:
    """The gateway reference a refund is paid under: its loan and its own reference."""
    return f"RF-{loan_id}-{reference}"


def refund(
    ws: Workspace, actor: Actor, loan_id: int, amount: int, reference: str, as_of: date
) -> RefundResult:
    """Pay `amount` of the loan's credit balance back to the borrower under `reference`;
    the same reference again answers with the first refund (marked `replayed`)."""
    actor.require(Permission.REFUND, "refund credit balances")
    reference = bounds.check_reference(reference, field="--reference")
    if amount <= 0:
        raise Refused("a refund must be more than zero")
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)
    paid_under = gateway_reference(loan_id, reference)
    key = f"{OPERATION}:{paid_under}"
    request = {"loan_id": loan_id, "amount": amount, "reference": reference}
    prepared = run_in_transaction(
        ws.engine,
        lambda uow: _prepare(ws, uow, actor, loan_id, amount, paid_under, key, request, as_of),
    )
    if isinstance(prepared, RefundResult):
        return prepared
    try:
        receipt = ws.gateway.pay_out(paid_under, amount, prepared["customer_id"])
    except GatewayError as error:
        failed = error
        run_in_transaction(ws.engine, lambda uow: _record_failure(uow, paid_under, failed))
        raise
    fault_point("refund.after_gateway")
    return run_in_transaction(
        ws.engine,
        lambda uow: _book(ws, uow, actor, loan_id, reference, key, request, receipt, prepared),
    )


def _prepare(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    loan_id: int,
    amount: int,
    paid_under: str,
    key: str,
    request: dict[str, Any],
    as_of: date,
) -> RefundResult | dict[str, Any]:
    loan = loan_store.get(uow, loan_id, for_update=True)
    stored = idempotency.replay(uow, key, OPERATION, request)
    if stored is not None:
        return replay_of(ws, uow, stored, actor, RefundResult)
    existing = refund_store.by_reference(uow, paid_under)
    if existing is not None and existing["amount"] != amount:
        raise KeyReused(
            f"refund reference {request['reference']!r} on loan {loan_id} was already used for"
            f" {format_fen(existing['amount'])}"
        )
    if loan["state"] not in DISBURSED:
        raise Refused(f"loan {loan_id} is {loan['state']}; it was never paid out")
    if existing is not None and existing["status"] == "pending":
        # sent before and may have been paid: finish it on the date it was asked for
        refund_store.change(uow, paid_under, {"attempts": existing["attempts"] + 1})
        return {"customer_id": loan["customer_id"], "requested_on": existing["requested_on"]}
    _check_date(ws, uow, loan, as_of)
    available = loan["credit_balance"] - refund_store.pending_total(uow, loan_id, paid_under)
    if amount > available:
        raise Refused(
            f"loan {loan_id}: cannot refund {format_fen(amount)}; its credit balance is"
            f" {format_fen(loan['credit_balance'])}"
            + (
                f", {format_fen(loan['credit_balance'] - available)} of it already being refunded"
                if available != loan["credit_balance"]
                else ""
            )
        )
    if existing is None:
        refund_store.add(
            uow,
            {
                "loan_id": loan_id,
                "reference": paid_under,
                "amount": amount,
                "status": "pending",
                "attempts": 1,
                "requested_on": as_of,
                "requested_by": actor.name,
            },
        )
    else:  # declined before: the gateway paid nothing, ask it again
        refund_store.change(
            uow,
            paid_under,
            {
                "status": "pending",
                "attempts": existing["attempts"] + 1,
                "requested_on": as_of,
                "last_error": None,
            },
        )
    return {"customer_id": loan["customer_id"], "requested_on": as_of}


def _check_date(ws: Workspace, uow: UnitOfWork, loan: dict[str, Any], as_of: date) -> None:
    """A live loan's money moves on its open business date; a closed or written-off one's
    never before its last movement."""
    if loan["state"] in OUTSTANDING:
        check_not_backdated(ws, uow, loan, as_of)
        return
    not_before(as_of, journal.last_movement(uow, loan["id"]), f"loan {loan['id']}'s last movement")


def _record_failure(uow: UnitOfWork, paid_under: str, error: GatewayError) -> None:
    """A declined refund failed (its amount is free again); a timed-out one stays pending,
    its outcome unknown, and the next attempt gets the gateway's answer for it."""
    why = error.message[:200]
    status = "pending" if error.transient else "failed"
    refund_store.change(uow, paid_under, {"status": status, "last_error": why})


def _book(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    loan_id: int,
    reference: str,
    key: str,
    request: dict[str, Any],
    receipt: PayoutReceipt,
    prepared: dict[str, Any],
) -> RefundResult:
    loan = loan_store.get(uow, loan_id, for_update=True)
    stored = idempotency.replay(uow, key, OPERATION, request)
    if stored is not None:  # another request finished this refund first
        return replay_of(ws, uow, stored, actor, RefundResult)
    amount = receipt.amount
    if amount > loan["credit_balance"]:  # pragma: no cover - reserved when it was asked
        raise Refused(f"loan {loan_id}: its credit balance no longer covers the refund")
    booked_on: date = prepared["requested_on"]
    lines = (
        EntryDraft("refund").debit(Account.OVERPAYMENT, amount).credit(Account.CASH, amount).lines()
    )
    journal.post(
        uow,
        kind="refund",
        lines=lines,
        business_date=booked_on,
        actor=actor.name,
        loan_id=loan_id,
        idempotency_key=key,
        memo=receipt.gateway_ref,
    )
    changes = {
        column: loan[column] + delta for column, delta in balance_changes(lines).items() if delta
    }
    updated = loan_store.save(uow, loan, changes)
    refund_store.change(
        uow, receipt.reference, {"status": "paid", "gateway_ref": receipt.gateway_ref}
    )
    loan_event(
        uow,
        updated,
        "CreditRefunded",
        actor,
        booked_on,
        {"amount": amount, "reference": reference, "gateway_ref": receipt.gateway_ref},
    )
    result = loan_view(
        ws,
        uow,
        updated,
        actor,
        booked_on,
        result=RefundResult,
        refund=RefundView(amount=amount, reference=reference, gateway_ref=receipt.gateway_ref),
    )
    idempotency.remember(uow, key, OPERATION, request, storable(result), loan_id)
    return result
