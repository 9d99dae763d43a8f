"""Repayments, payoff quotes and settlement. One transaction each, idempotent by key."""

from __future__ import annotations

import secrets
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.product_spec import ProductSpec
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.ledger import Account, EntryDraft, Line, balance_changes
from lendflow.domain.money import format_fen
from lendflow.domain.repayment import RepaymentPlan, payoff_quote, plan_repayment
from lendflow.loans.records import (
    STATE_FIELDS,
    instalment_states,
    loan_event,
    not_before,
    transition,
)
from lendflow.loans.views import loan_view, storable, with_customer
from lendflow.products.catalogue import spec_for
from lendflow.store import idempotency, journal
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

OPERATION = "repay"
REPAYABLE = ("active", "overdue", "written_off")


def check_not_backdated(uow: UnitOfWork, loan: dict[str, Any], as_of: date) -> None:
    """Refuse money dated into a closed business day or before the loan's last movement.

    Close of business has already aged and charged the loan for every date up to
    its watermark; a later movement dated earlier would leave those figures wrong.
    """
    not_before(as_of, loan["disbursed_on"], f"loan {loan['id']} was disbursed")
    if loan["cob_through"] is not None and as_of <= loan["cob_through"]:
        raise BadInput(
            f"business date {as_of} is already closed for loan {loan['id']}"
            f" (closed through {loan['cob_through']})"
        )
    not_before(as_of, journal.last_movement(uow, loan["id"]), f"loan {loan['id']}'s last payment")


def recognise_due(
    uow: UnitOfWork,
    loan: dict[str, Any],
    rows: list[dict[str, Any]],
    as_of: date,
    actor: Actor,
    written: dict[int, dict[str, Any]],
) -> list[Line]:
    """Book interest and fees that have fallen due by `as_of` as receivable (once each).

    Returns the entry's lines, whose balance changes the caller writes with the rest of
    the repayment; the rows are marked in `rows` and in `written` (instalment id →
    changed columns), which the caller writes once per instalment. Whatever of an
    instalment was paid in advance was recognised as income when paid, so only the
    rest is booked.
    """
    interest = fee = 0
    for row in rows:
        if row["recognised"] or row["due_date"] > as_of:
            continue
        interest += row["interest"] - row["interest_paid"] - row["interest_waived"]
        fee += row["fee"] - row["fee_paid"] - row["fee_waived"]
        row["recognised"] = True
        written.setdefault(row["id"], {})["recognised"] = True
    if not interest and not fee:
        return []
    lines = (
        EntryDraft("charges_due")
        .debit(Account.INTEREST_RECEIVABLE, interest)
        .credit(Account.INTEREST_INCOME, interest)
        .debit(Account.FEE_RECEIVABLE, fee)
        .credit(Account.FEE_INCOME, fee)
        .lines()
    )
    journal.post(
        uow,
        kind="charges_due",
        lines=lines,
        business_date=as_of,
        actor=actor.name,
        loan_id=loan["id"],
    )
    return lines


def _balances_after(loan: dict[str, Any], *entries: list[Line]) -> dict[str, int]:
    """The loan's balance columns that the entries move, at their new values."""
    moved: dict[str, int] = {}
    for lines in entries:
        for column, delta in balance_changes(lines).items():
            moved[column] = moved.get(column, 0) + delta
    return {c: loan[c] + d for c, d in moved.items() if d}


def _repayment_lines(plan: RepaymentPlan) -> list[Line]:
    return (
        EntryDraft("repayment")
        .debit(Account.CASH, plan.amount)
        .debit(Account.INTEREST_INCOME, plan.interest_refund)
        .debit(Account.FEE_INCOME, plan.fee_refund)
        .credit(Account.LOAN_PRINCIPAL, plan.principal)
        .credit(Account.INTEREST_RECEIVABLE, plan.interest_from_receivable)
        .credit(Account.INTEREST_INCOME, plan.interest_to_income)
        .credit(Account.FEE_RECEIVABLE, plan.fee_from_receivable)
        .credit(Account.FEE_INCOME, plan.fee_to_income)
        .credit(Account.PENALTY_RECEIVABLE, plan.penalty)
        .credit(Account.OVERPAYMENT, plan.overpayment)
        .lines()
    )


def repay(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    amount: int,
    as_of: date,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Post a repayment: allocate it, book it, and close or cure the loan when it should.

    A replay of the same key returns the first answer and moves no money.
    """
    actor.require(Permission.REPAY, "post repayments")
    if amount <= 0:
        raise Refused("a repayment must be more than zero")
    key = idempotency_key or f"repay-{secrets.token_hex(8)}"
    request = {"loan_id": loan_id, "amount": amount, "as_of": as_of.isoformat()}

    def use_case(uow: UnitOfWork) -> dict[str, Any]:
        loan = loan_store.get(uow, loan_id, for_update=True)
        replayed = idempotency.replay(uow, key, OPERATION, request)
        if replayed is not None:
            return {**with_customer(ws, uow, replayed, actor), "replayed": True}
        if loan["state"] not in REPAYABLE:
            raise Refused(f"loan {loan_id} is {loan['state']}; repay needs active or overdue")
        check_not_backdated(uow, loan, as_of)
        rows = loan_store.instalments(uow, loan_id)
        if loan["state"] == "written_off":
            loan = _post_recovery(uow, loan, amount, as_of, actor, key)
        else:
            loan = _post_repayment(uow, loan, rows, amount, as_of, actor, key)
        view = loan_view(ws, uow, loan, actor, as_of, rows)
        view["payment"] = {"amount": format_fen(amount), "idempotency_key": key}
        idempotency.remember(uow, key, OPERATION, request, storable(view), loan_id)
        return view

    return run_in_transaction(ws.engine, use_case)


def _post_repayment(
    uow: UnitOfWork,
    loan: dict[str, Any],
    rows: list[dict[str, Any]],
    amount: int,
    as_of: date,
    actor: Actor,
    key: str,
) -> dict[str, Any]:
    """Recognise what fell due, spend the payment, book it; `rows` are kept current.

    Each instalment touched and the loan itself are written once, with everything
    the repayment changed (the loan's balances and, if it closes or cures, its status).
    """
    written: dict[int, dict[str, Any]] = {}
    recognised = recognise_due(uow, loan, rows, as_of, actor, written)
    spec = spec_for(uow, loan)
    plan = plan_repayment(
        instalment_states(rows), amount, as_of, loan["disbursed_on"], spec.allocation
    )
    by_n = {r["n"]: r for r in rows}
    for n, change in plan.changes.items():
        row = by_n[n]
        values = {f: row[f] + getattr(change, f) for f in STATE_FIELDS if getattr(change, f)}
        owed_after = (
            row["principal"]
            + row["interest"]
            + row["fee"]
            + row["penalty"]
            - sum(values.get(f, row[f]) for f in STATE_FIELDS)
        )
        if owed_after == 0 and row["paid_on"] is None:
            values["paid_on"] = as_of
        if plan.settles and not row["recognised"]:
            values["recognised"] = True  # nothing more will ever fall due on it
        row.update(values)
        written.setdefault(row["id"], {}).update(values)
    for instalment_id, values in written.items():
        loan_store.update_instalment(uow, instalment_id, values)
    lines = _repayment_lines(plan)
    journal.post(
        uow,
        kind="repayment",
        lines=lines,
        business_date=as_of,
        actor=actor.name,
        loan_id=loan["id"],
        idempotency_key=f"{OPERATION}:{key}",
    )
    balances = _balances_after(loan, recognised, lines)
    after = {**loan, **balances}
    loan_event(
        uow,
        after,
        "RepaymentPosted",
        actor,
        as_of,
        {
            "amount": amount,
            "principal": plan.principal,
            "interest": plan.interest_from_receivable + plan.interest_to_income,
            "fee": plan.fee_from_receivable + plan.fee_to_income,
            "penalty": plan.penalty,
            "overpayment": plan.overpayment,
            "refunded": plan.interest_refund + plan.fee_refund,
            "settles": plan.settles,
            "idempotency_key": key,
        },
    )
    if plan.settles:
        return transition(
            uow,
            loan,
            "close",
            actor=actor,
            as_of=as_of,
            event_name="LoanClosed",
            context={"outstanding": _owed_on_books(after)},
            changes={**balances, "closed_on": as_of, **_current(spec)},
            payload={"credit_balance": after["credit_balance"]},
        )
    if loan["state"] == "overdue":
        states = instalment_states(rows)
        if not any(i.due_date <= as_of and not i.settled for i in states):
            return transition(
                uow,
                loan,
                "cure",
                actor=actor,
                as_of=as_of,
                event_name="LoanCured",
                changes={**balances, **_current(spec)},
            )
    return loan_store.save(uow, loan, balances) if balances else loan


def _current(spec: ProductSpec) -> dict[str, Any]:
    """Days past due, bucket and class of a loan with nothing past due."""
    rules = spec.delinquency
    return {
        "dpd": 0,
        "bucket": rules.buckets[0].name,
        "classification": rules.classification[0].code,
    }


def _owed_on_books(loan: dict[str, Any]) -> int:
    return sum(
        loan[c]
        for c in (
            "principal_outstanding",
            "interest_receivable",
            "fee_receivable",
            "penalty_receivable",
        )
    )


def _post_recovery(
    uow: UnitOfWork, loan: dict[str, Any], amount: int, as_of: date, actor: Actor, key: str
) -> dict[str, Any]:
    """Money received after write-off is a recovery: income, not a loan balance."""
    lines = (
        EntryDraft("recovery")
        .debit(Account.CASH, amount)
        .credit(Account.RECOVERY_INCOME, amount)
        .lines()
    )
    journal.post(
        uow,
        kind="recovery",
        lines=lines,
        business_date=as_of,
        actor=actor.name,
        loan_id=loan["id"],
        idempotency_key=f"{OPERATION}:{key}",
    )
    loan_event(
        uow, loan, "RecoveryPosted", actor, as_of, {"amount": amount, "idempotency_key": key}
    )
    return loan


def quote(ws: Workspace, actor: Actor, loan_id: int, as_of: date) -> dict[str, Any]:
    """What it takes to settle the loan on `as_of`, by component."""
    actor.require(Permission.READ, "quote loans")

    def use_case(uow: UnitOfWork) -> dict[str, Any]:
        loan = loan_store.get(uow, loan_id)
        if loan["state"] not in ("active", "overdue"):
            raise Refused(
                f"loan {loan_id} is {loan['state']}; a payoff quote needs active or overdue"
            )
        check_not_backdated(uow, loan, as_of)
        states = instalment_states(loan_store.instalments(uow, loan_id))
        payoff = payoff_quote(states, as_of, loan["disbursed_on"])
        return {
            "loan_id": loan_id,
            "as_of": as_of.isoformat(),
            "principal": format_fen(payoff.principal),
            "interest": format_fen(payoff.interest),
            "fees": format_fen(payoff.fee),
            "penalty": format_fen(payoff.penalty),
            "credit": format_fen(payoff.credit),
            "total": format_fen(payoff.total),
        }

    return run_in_transaction(ws.engine, use_case)
