"""Disbursement: pay out through the gateway, then activate the loan and book it.

Paying out is I/O that cannot sit inside a database transaction, so the use
case runs in three short steps: (1) record a pending payout under the loan's
one reference, (2) ask the gateway to pay that reference, (3) in one
transaction mark the payout paid, activate the loan, write its schedule, post
the ledger and the event. The gateway pays a reference at most once, so a
retry after a timeout or a crash between the steps can never pay twice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.accrual import upfront_shares
from lendflow.domain.apr import apr_of_schedule
from lendflow.domain.business_date import check_horizon
from lendflow.domain.business_days import MovedSchedule, NonWorkingDue, move_schedule
from lendflow.domain.errors import Refused
from lendflow.domain.ledger import Account, EntryDraft, Line, balance_changes
from lendflow.domain.schedule import generate
from lendflow.domain.statuses import LoanStatus
from lendflow.loans import promotions
from lendflow.loans.presenters import percent, stored_apr
from lendflow.loans.records import accrual_columns, not_before, transition
from lendflow.loans.results import DisbursementResult
from lendflow.loans.views import loan_view, replay_of, storable
from lendflow.products.catalogue import spec_for
from lendflow.states.machine import machine
from lendflow.store import idempotency, journal, payouts
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork, run_in_transaction
from lendflow.workspace.faults import fault_point
from lendflow.workspace.payments import GatewayError, PayoutReceipt

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

OPERATION = "disburse"


def payout_reference(loan_id: int) -> str:
    """The one gateway reference a loan's disbursement is ever paid under."""
    return f"LF-{loan_id}"


def disburse(
    ws: Workspace, actor: Actor, loan_id: int, as_of: date, idempotency_key: str | None = None
) -> DisbursementResult:
    """Pay out an approved loan and activate it; a replayed key returns the first answer
    again (marked `replayed`).

    Without a key there is nothing to replay: asking again for a loan already
    paid out is refused. Either way the payout reference makes a second payment
    impossible.
    """
    actor.require(Permission.DISBURSE, "disburse loans")
    request = {"loan_id": loan_id}
    prepared = run_in_transaction(
        ws.engine, lambda uow: _prepare(ws, uow, actor, loan_id, as_of, idempotency_key, request)
    )
    if "replayed" in prepared:
        return prepared["replayed"]
    # A payout resumed after a crash or a timeout is booked on the business date it
    # was first asked for, not on the date of the retry: the schedule, the journal and
    # the watermark all start from the day the money was meant to leave.
    booked_on: date = prepared["requested_on"]
    try:
        receipt = ws.gateway.pay_out(
            prepared["reference"], prepared["amount"], prepared["customer_id"]
        )
    except GatewayError as error:
        failed = error
        run_in_transaction(
            ws.engine, lambda uow: _record_failure(uow, prepared["reference"], failed)
        )
        raise
    fault_point("disbursement.after_gateway")
    return run_in_transaction(
        ws.engine,
        lambda uow: _activate(
            ws, uow, actor, loan_id, booked_on, idempotency_key, request, receipt, prepared
        ),
    )


def payout_in_flight(uow: UnitOfWork, loan_id: int) -> dict[str, Any] | None:
    """The loan's payout if one was sent and may have been paid (pending or paid)."""
    return payouts.in_flight(uow, loan_id)


def _replay(
    ws: Workspace, uow: UnitOfWork, actor: Actor, key: str | None, request: dict[str, Any]
) -> DisbursementResult | None:
    if key is None:
        return None
    stored = idempotency.replay(uow, key, OPERATION, request)
    return None if stored is None else replay_of(ws, uow, stored, actor, DisbursementResult)


def _prepare(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    loan_id: int,
    as_of: date,
    key: str | None,
    request: dict[str, Any],
) -> dict[str, Any]:
    loan = loan_store.get(uow, loan_id, for_update=True)
    replayed = _replay(ws, uow, actor, key, request)
    if replayed is not None:
        return {"replayed": replayed}
    if loan["state"] != "approved":
        raise Refused(machine("loan").refusal(f"loan {loan_id}", loan["state"], "disburse"))
    not_before(as_of, loan["decided_on"], f"loan {loan_id} was approved")
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)
    reference = payout_reference(loan_id)
    existing = payouts.by_reference(uow, reference)
    resuming = existing is not None and existing["status"] in ("pending", "paid")
    if not resuming and as_of > loan["approval_expires_on"]:
        raise Refused(
            f"loan {loan_id}: the approval lapsed on {loan['approval_expires_on']};"
            " it can only expire"
        )
    if existing is None:
        ws.contracts.check_issuable(ws, uow, loan, as_of)
        payouts.add(
            uow,
            {
                "loan_id": loan_id,
                "reference": reference,
                "amount": loan["approved_amount"],
                "status": "pending",
                "attempts": 1,
                "requested_on": as_of,
            },
        )
        requested_on = as_of
    else:
        # A payout already sent may have been paid: finish it whatever the date now,
        # under the business date it was first asked for.
        requested_on = existing["requested_on"] if resuming else as_of
        changes = {"status": "pending", "attempts": existing["attempts"] + 1}
        # after a decline the last attempt's outcome is known: nothing left
        unknown = {"last_error": existing["last_error"]} if resuming else {"last_error": None}
        payouts.change(uow, reference, {**changes, **unknown, "requested_on": requested_on})
    return {
        "reference": reference,
        "amount": loan["approved_amount"],
        "customer_id": loan["customer_id"],
        "requested_on": requested_on,
    }


def _record_failure(uow: UnitOfWork, reference: str, error: GatewayError) -> None:
    """A declined payout failed; a timed-out one stays pending, its outcome unknown.

    A decline of a retry after a timeout proves nothing about the earlier attempt,
    which may have paid: the payout stays pending (close of business does not expire
    the loan, and the next retry gets the gateway's answer for the reference), never
    failed with the money possibly out.
    """
    payout = payouts.by_reference(uow, reference)
    unknown_before = payout is not None and payout["last_error"] is not None
    if error.transient or unknown_before:
        why = error.message if error.transient else f"{error.message} after an unknown outcome"
        payouts.change(uow, reference, {"status": "pending", "last_error": why[:200]})
        return
    payouts.change(uow, reference, {"status": "failed", "last_error": error.message[:200]})


def _schedule_rows(
    ws: Workspace, uow: UnitOfWork, loan: dict[str, Any], as_of: date
) -> tuple[MovedSchedule, list[dict[str, Any]], dict[int, date]]:
    """The loan's schedule from the payout date, as instalment rows (an upfront fee is row 0,
    recognised at once); due dates on working days if the product moves them, and each
    instalment's due date as priced, before any move."""
    spec = spec_for(uow, loan)
    loan_id = loan["id"]
    priced = generate(
        spec.schedule_terms(
            loan["approved_amount"],
            loan["term"],
            as_of,
            annual_rate=Decimal(loan["annual_rate"]),
        )
    )
    moved = move_schedule(priced, spec.schedule.non_working_due, ws.calendar)
    schedule = moved.schedule
    rows = []
    if schedule.terms.upfront_fee:
        rows.append(_row(loan_id, 0, as_of, 0, 0, schedule.terms.upfront_fee, recognised=True))
    shares = upfront_shares(
        schedule.terms.upfront_fee, as_of, [i.due_date for i in schedule.instalments]
    )
    rows += [
        {
            **_row(loan_id, i.n, i.due_date, i.principal, i.interest, i.fee, recognised=False),
            "upfront_share": share,
        }
        for i, share in zip(schedule.instalments, shares, strict=True)
    ]
    return moved, rows, {i.n: i.due_date for i in priced.instalments}


def _post_payout(
    uow: UnitOfWork,
    actor: Actor,
    loan_id: int,
    principal: int,
    upfront_fee: int,
    as_of: date,
    receipt: PayoutReceipt,
) -> list[Line]:
    """Book the payout (and an upfront fee) under the gateway's reference; its lines."""
    lines = (
        EntryDraft("disbursement")
        .debit(Account.LOAN_PRINCIPAL, principal)
        .credit(Account.CASH, principal)
        .debit(Account.FEE_RECEIVABLE, upfront_fee)
        # earned over the term: released instalment by instalment (`domain.accrual`)
        .credit(Account.DEFERRED_FEE_INCOME, upfront_fee)
        .lines()
    )
    journal.post(
        uow,
        kind="disbursement",
        lines=lines,
        business_date=as_of,
        actor=actor.name,
        loan_id=loan_id,
        idempotency_key=f"{OPERATION}:{receipt.reference}",
        memo=receipt.gateway_ref,
    )
    return lines


def _activate(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    loan_id: int,
    as_of: date,
    key: str | None,
    request: dict[str, Any],
    receipt: PayoutReceipt,
    prepared: dict[str, Any],
) -> DisbursementResult:
    loan = loan_store.get(uow, loan_id, for_update=True)
    replayed = _replay(ws, uow, actor, key, request)
    if replayed is not None:
        return replayed
    if loan["state"] != LoanStatus.APPROVED:  # another request finished this disbursement first
        raise Refused(machine("loan").refusal(f"loan {loan_id}", loan["state"], "disburse"))
    principal = loan["approved_amount"]
    moved, rows, priced_on = _schedule_rows(ws, uow, loan, as_of)
    schedule = moved.schedule
    apr = apr_of_schedule(schedule)
    # may waive interest, over the periods it was priced on (a moved date charges no more)
    promotion = promotions.apply_to_schedule(uow, loan, rows, as_of, priced_on)
    loan_store.insert_instalments(uow, rows)
    lines = _post_payout(uow, actor, loan_id, principal, schedule.terms.upfront_fee, as_of, receipt)
    balances = balance_changes(lines)
    updated = transition(
        uow,
        loan,
        "disburse",
        actor=actor,
        as_of=as_of,
        event_name="LoanDisbursed",
        context={
            "as_of": prepared["requested_on"],
            "approval_expires_on": loan["approval_expires_on"],
        },
        changes={
            "principal": principal,
            "disbursed_on": as_of,
            # close of business starts with the day of the payout
            "cob_through": as_of - timedelta(days=1),
            "maturity_on": schedule.maturity,
            "apr": stored_apr(apr),
            **{column: loan[column] + delta for column, delta in balances.items()},
            # the first period accrues from the payout's own close of business on
            **accrual_columns(rows, as_of),
        },
        payload={
            "principal": principal,
            "gateway_ref": receipt.gateway_ref,
            "upfront_fee": schedule.terms.upfront_fee,
            "apr": percent(apr.compound),
            "apr_actual_dates": percent(apr.actual_dates),
            # due dates in these years moved off weekends only: their holidays were not known
            **(
                {"calendar_assumed_years": list(moved.assumed_years)}
                if moved.assumed_years and moved.rule is NonWorkingDue.MOVE
                else {}
            ),
        },
    )
    payouts.change(uow, receipt.reference, {"status": "paid", "gateway_ref": receipt.gateway_ref})
    _store_contract(ws, uow, actor, updated, as_of)
    promotions.book(ws, uow, actor, updated, promotion, as_of)
    # the rows just written
    result = loan_view(ws, uow, updated, actor, as_of, rows, result=DisbursementResult)
    if key is not None:
        idempotency.remember(uow, key, OPERATION, request, storable(result), loan_id)
    return result


def _store_contract(
    ws: Workspace, uow: UnitOfWork, actor: Actor, loan: dict[str, Any], as_of: date
) -> None:
    """Render the loan's contract and keep it with its SHA-256, in this transaction.

    A contract that cannot be complete (a product without penalty terms) refuses
    the activation: no loan goes live without the contract it was made under.
    """
    ws.contracts.store_contract(ws, uow, loan, actor, as_of)


def _row(
    loan_id: int, n: int, due: date, principal: int, interest: int, fee: int, *, recognised: bool
) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "n": n,
        "due_date": due,
        "principal": principal,
        "interest": interest,
        "fee": fee,
        "penalty": 0,
        "principal_paid": 0,
        "interest_paid": 0,
        "fee_paid": 0,
        "penalty_paid": 0,
        "interest_waived": 0,
        "fee_waived": 0,
        "recognised": recognised,
    }
