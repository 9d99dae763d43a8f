"""Taking a repayment back (a bounced transfer, money posted to the wrong loan): one
person asks, another approves (four eyes), and the loan is reprocessed from the
payment's value date without it (`loans.reprocessing`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.business_date import check_horizon
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.reprocessing import Payment as Booked
from lendflow.loans.records import loan_event
from lendflow.loans.repayments import replayer
from lendflow.loans.reprocessing import repayments_of, reprocess
from lendflow.loans.results import RepaymentReversal
from lendflow.store import loans as loan_store
from lendflow.store import reversals
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


def ask_reversal(
    ws: Workspace, actor: Actor, loan_id: int, reference: str, reason: str, as_of: date
) -> RepaymentReversal:
    """Ask for a repayment to be taken back (a bounced transfer, a payment on the wrong
    loan); another person approves it (`approve_reversal`)."""
    actor.require(Permission.REVERSE_REPAYMENTS, "reverse repayments")
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise BadInput("--reason: say why in 1 to 200 characters")
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)

    def use_case(uow: UnitOfWork) -> RepaymentReversal:
        loan_store.get(uow, loan_id, for_update=True)
        payment = _standing_payment(uow, loan_id, reference)
        if reversals.pending_for(uow, loan_id, reference) is not None:
            raise Refused(f"a reversal of {reference} on loan {loan_id} is already waiting")
        row = reversals.add(uow, loan_id, reference, reason, actor.name, as_of)
        return _reversal(row, payment)

    return run_in_transaction(ws.engine, use_case)


def approve_reversal(
    ws: Workspace, actor: Actor, reversal_id: int, as_of: date
) -> RepaymentReversal:
    """Approve a reversal someone else asked for: reprocess the loan without the payment."""
    actor.require(Permission.REVERSE_REPAYMENTS, "reverse repayments")
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)

    def use_case(uow: UnitOfWork) -> RepaymentReversal:
        asked = reversals.get(uow, reversal_id)
        if asked["status"] != "pending":
            raise Refused(f"repayment reversal {reversal_id} is already {asked['status']}")
        if asked["asked_by"] == actor.name:
            raise Refused(
                f"{actor.name} asked for reversal {reversal_id}; another person must approve it"
                " (four eyes)"
            )
        loan_id = asked["loan_id"]
        loan = loan_store.get(uow, loan_id, for_update=True)
        payment = _standing_payment(uow, loan_id, asked["reference"])
        kept = [p for p in repayments_of(uow, loan_id) if p.reference != asked["reference"]]
        row = reprocess(
            ws,
            uow,
            actor,
            loan,
            kept,
            replayer(ws, actor),
            changed_on=payment.on,
            reason=f"repayment {asked['reference']} reversed: {asked['reason']}",
        )
        loan_event(
            uow,
            row,
            "RepaymentReversed",
            actor,
            as_of,
            {
                "amount": payment.amount,
                "value_date": payment.on.isoformat(),
                "idempotency_key": asked["reference"],
                "asked_by": asked["asked_by"],
                "reversal_id": reversal_id,
            },
        )
        reversals.decide(uow, reversal_id, actor.name, as_of)
        return _reversal({**asked, "status": "reversed", "decided_by": actor.name}, payment)

    return run_in_transaction(ws.engine, use_case)


def _standing_payment(uow: UnitOfWork, loan_id: int, reference: str) -> Booked:
    for payment in repayments_of(uow, loan_id):
        if payment.reference == reference:
            return payment
    raise BadInput(f"loan {loan_id} has no standing repayment {reference}")


def _reversal(row: dict[str, Any], payment: Booked) -> RepaymentReversal:
    return RepaymentReversal(
        id=row["id"],
        loan_id=row["loan_id"],
        reference=row["reference"],
        amount=payment.amount,
        value_date=payment.on,
        reason=row["reason"],
        status=row["status"],
        asked_by=row["asked_by"],
        decided_by=row.get("decided_by"),
    )
