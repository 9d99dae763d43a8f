"""Repayments, payoff quotes and settlement. One transaction each, idempotent by key."""

from __future__ import annotations

import secrets
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.product_spec import ProductSpec
from lendflow.domain import bounds
from lendflow.domain.business_date import (
    ClosedDay,
    check_backdated,
    check_horizon,
    check_open_date,
    open_date,
)
from lendflow.domain.classification import grade, rank, with_borrower_class
from lendflow.domain.errors import Refused
from lendflow.domain.ledger import Line
from lendflow.domain.loan import REPAYABLE, Loan
from lendflow.domain.money import format_fen
from lendflow.domain.reprocessing import Payment as Booked
from lendflow.domain.statuses import OUTSTANDING
from lendflow.loans.records import (
    loan_event,
    not_before,
    transition,
)
from lendflow.loans.reprocessing import PostRepayment, repayments_of, reprocess
from lendflow.loans.results import Payment, PayoffQuote, RepaymentResult
from lendflow.loans.views import loan_view, replay_of, storable
from lendflow.products.catalogue import spec_for
from lendflow.states.machine import machine
from lendflow.store import idempotency, journal, movement_reads
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

OPERATION = "repay"


def check_not_backdated(ws: Workspace, uow: UnitOfWork, loan: dict[str, Any], as_of: date) -> None:
    """Refuse money not dated on the loan's open business date (`domain.business_date`).

    Close of business has already aged and charged the loan for every date up to
    its watermark; a movement dated earlier would leave those figures wrong, and
    one dated later would have the days between closed as if it had arrived.
    """
    check_dated(ws, loan, as_of, journal.last_movement(uow, loan["id"]))


def check_dated(ws: Workspace, loan: dict[str, Any], as_of: date, last: date | None) -> None:
    """`check_not_backdated`, given the loan's latest payout or repayment (`last`)."""
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)
    not_before(as_of, loan["disbursed_on"], f"loan {loan['id']} was disbursed")
    check_open_date(
        loan["id"],
        as_of,
        loan["cob_through"],
        loan["disbursed_on"],
        in_sweep=loan["state"] in OUTSTANDING,
    )
    not_before(as_of, last, f"loan {loan['id']}'s last payment")


def check_overpayment(ws: Workspace, loan_id: int, overpayment: int) -> None:
    """Refuse a payment leaving more credit than the policy lets the lender hold."""
    limit = ws.policy.max_overpayment
    if overpayment > limit:
        raise Refused(
            f"loan {loan_id}: the payment is {format_fen(overpayment)} more than settles the"
            f" loan, over the policy's limit of {format_fen(limit)}; return it to the payer"
            " or post what is owed"
        )


def repay(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    amount: int,
    as_of: date,
    idempotency_key: str | None = None,
    reference: str | None = None,
) -> RepaymentResult:
    """Post a repayment: allocate it, book it, and close or cure the loan when it should.

    A replay of the same key returns the first answer and moves no money. `reference`
    is the payer's own (a bank serial number): kept in the payment's event, shown with
    its transaction.
    """
    key, request = _payment(actor, loan_id, amount, as_of, idempotency_key, reference)

    def use_case(uow: UnitOfWork) -> RepaymentResult:
        loan = loan_store.get(uow, loan_id, for_update=True)
        found = movement_reads.after_lock(uow, loan, key)
        stored = idempotency.answer(found.stored, key, OPERATION, request)
        if stored is not None:
            return replay_of(ws, uow, stored, actor, RepaymentResult)
        if loan["state"] not in REPAYABLE:
            raise Refused(f"loan {loan_id} is {loan['state']}; repay needs active or overdue")
        check_dated(ws, loan, as_of, found.last_movement)
        rows = found.instalments
        loan = _post(ws, uow, loan, rows, amount, as_of, actor, key, reference=reference)
        result = loan_view(
            ws,
            uow,
            loan,
            actor,
            as_of,
            rows,
            found.customer,
            result=RepaymentResult,
            payment=Payment(amount=amount, idempotency_key=key, reference=reference),
        )
        idempotency.remember(uow, key, OPERATION, request, storable(result), loan_id)
        return result

    return run_in_transaction(ws.engine, use_case)


def _payment(
    actor: Actor, loan_id: int, amount: int, on: date, key: str | None, reference: str | None
) -> tuple[str, dict[str, Any]]:
    """The checks every repayment passes first, its idempotency key and its request.

    A payment is its loan, amount, value date and the payer's reference however it is
    booked (on the open date or backdated), so a repayment file posted again replays a
    row that was backdated. A payment without a reference keeps the request it always had.
    """
    actor.require(Permission.REPAY, "post repayments")
    if amount <= 0:
        raise Refused("a repayment must be more than zero")
    request: dict[str, Any] = {"loan_id": loan_id, "amount": amount, "as_of": on.isoformat()}
    if reference is not None:
        request["reference"] = bounds.check_reference(reference, field="reference")
    return key or f"repay-{secrets.token_hex(8)}", request


def _post(
    ws: Workspace,
    uow: UnitOfWork,
    row: dict[str, Any],
    rows: list[dict[str, Any]],
    amount: int,
    as_of: date,
    actor: Actor,
    key: str,
    journal_key: str | None = "",
    *,
    quiet: bool = False,
    reference: str | None = None,
) -> dict[str, Any]:
    """Let the loan spend the payment, then write what it decided: instalments and the
    loan once each, the journal entries, the event and any close or cure.

    `rows` are kept current, so the answer shows the loan as it now stands. `quiet`
    rebuilds the rows only, for a payment whose entries and events stand (reprocessing
    a loan from a later date). The payer's `reference` goes into the event.
    """
    loan = Loan.from_rows(row, rows)
    spec = spec_for(uow, row)
    outcome = loan.repay(amount, as_of, spec.allocation)
    if outcome.plan is not None:
        check_overpayment(ws, row["id"], outcome.plan.overpayment)
    if outcome.charges_due and not quiet:
        post_loan_lines(uow, row, "charges_due", outcome.charges_due, as_of, actor)
    for instalment_id, values in loan.changed_instalments().items():
        loan_store.update_instalment(uow, instalment_id, values)
    if journal_key == "":
        journal_key = f"{OPERATION}:{key}"
    after = {**row, **outcome.balances}
    if not quiet:
        # the memo keeps the reference, so reprocessing can book the payment again under it
        post_loan_lines(uow, row, outcome.entry_kind, outcome.entry, as_of, actor, journal_key, key)
        event = "RecoveryPosted" if outcome.plan is None else "RepaymentPosted"
        loan_event(
            uow, after, event, actor, as_of, _with_reference(outcome.event_payload(key), reference)
        )
    if outcome.trigger == "close":
        assert outcome.plan is not None
        return _move(
            uow,
            row,
            "close",
            quiet,
            actor=actor,
            as_of=as_of,
            event_name="LoanClosed",
            context={"outstanding": loan.owed_on_books(outcome.balances)},
            changes={**outcome.balances, "closed_on": as_of, **_current(spec), "held_since": None},
            payload={"credit_balance": after["credit_balance"]},
        )
    if outcome.trigger == "cure":
        cured = _cured(spec, row, as_of)
        reason = cured.pop("reason")
        return _move(
            uow,
            row,
            "cure",
            quiet,
            actor=actor,
            as_of=as_of,
            event_name="LoanCured",
            changes={**outcome.balances, **cured},
            payload={"classification": cured["classification"], "reason": reason},
        )
    return loan_store.save(uow, row, outcome.balances) if outcome.balances else row


def _move(
    uow: UnitOfWork, row: dict[str, Any], trigger: str, quiet: bool, **how: Any
) -> dict[str, Any]:
    """A checked move through the loan machine; a quiet one writes the row, no event."""
    if not quiet:
        return transition(uow, row, trigger, **how)
    move = machine("loan").fire(
        row["state"], trigger, how.get("context"), label=f"loan {row['id']}"
    )
    return loan_store.save(uow, row, {"state": move.dest, **how.get("changes", {})})


def post_loan_lines(
    uow: UnitOfWork,
    loan: dict[str, Any],
    kind: str,
    lines: list[Line],
    as_of: date,
    actor: Actor,
    idempotency_key: str | None = None,
    memo: str = "",
) -> None:
    """Post one of the loan's entries on `as_of` (under `idempotency_key`, if any)."""
    journal.post(
        uow,
        kind=kind,
        lines=lines,
        business_date=as_of,
        actor=actor.name,
        loan_id=loan["id"],
        idempotency_key=idempotency_key,
        memo=memo,
    )


def repay_backdated(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    amount: int,
    value_date: date,
    idempotency_key: str | None = None,
    reference: str | None = None,
) -> RepaymentResult:
    """Book money that arrived on a closed day of the loan, as if it had been there then.

    The loan is reprocessed (`loans.reprocessing`): what was booked for it since its
    payout is reversed, and its repayments, this one on `value_date`, and its closed
    days are booked again in order. Repayment files call this for rows dated into a
    loan's closed days. A replay of the same key returns the first answer; the payer's
    `reference` goes into the `RepaymentBackdated` event.
    """
    key, request = _payment(actor, loan_id, amount, value_date, idempotency_key, reference)

    def use_case(uow: UnitOfWork) -> RepaymentResult:
        loan = loan_store.get(uow, loan_id, for_update=True)
        stored = idempotency.replay(uow, key, OPERATION, request)
        if stored is not None:
            return replay_of(ws, uow, stored, actor, RepaymentResult)
        check_horizon(value_date, ws.today(), ws.policy.business_dates.horizon_days)
        check_backdated(loan_id, value_date, loan["cob_through"], loan["disbursed_on"])
        payments = [*repayments_of(uow, loan_id), Booked(value_date, amount, key)]
        row = reprocess(
            ws,
            uow,
            actor,
            loan,
            payments,
            replayer(ws, actor),
            changed_on=value_date,
            reason="backdated repayment",
        )
        loan_event(
            uow,
            row,
            "RepaymentBackdated",
            actor,
            value_date,
            _with_reference(
                {"amount": amount, "value_date": value_date.isoformat(), "idempotency_key": key},
                reference,
            ),
        )
        result = _answer(
            ws, uow, row, actor, Payment(amount=amount, idempotency_key=key, reference=reference)
        )
        idempotency.remember(uow, key, OPERATION, request, storable(result), loan_id)
        return result

    return run_in_transaction(ws.engine, use_case)


def repay_value_dated(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    amount: int,
    value_date: date,
    idempotency_key: str | None = None,
    reference: str | None = None,
) -> RepaymentResult:
    """Post money that arrived on `value_date`: on the loan's open business date as an
    ordinary repayment, on a day already closed for the loan through the backdated path
    (`repay_backdated`), which reprocesses it. A repayment file's rows and the API's
    value-dated repayments come this way; a replay of the key is the first answer either
    way, as the payment's request does not say how it was booked."""
    try:
        return repay(ws, actor, loan_id, amount, value_date, idempotency_key, reference)
    except ClosedDay:
        return repay_backdated(ws, actor, loan_id, amount, value_date, idempotency_key, reference)


def _with_reference(payload: dict[str, Any], reference: str | None) -> dict[str, Any]:
    """An event's payload with the payer's reference, when there is one."""
    return payload if reference is None else {**payload, "reference": reference}


def replayer(ws: Workspace, actor: Actor) -> PostRepayment:
    """Books a repayment again during reprocessing: same rules, no idempotency key
    (the first booking holds it), its reference kept as the memo."""

    def post(
        uow: UnitOfWork,
        row: dict[str, Any],
        rows: list[dict[str, Any]],
        amount: int,
        on: date,
        reference: str,
        quiet: bool,
    ) -> dict[str, Any]:
        return _post(
            ws, uow, row, rows, amount, on, actor, reference, journal_key=None, quiet=quiet
        )

    return post


def _answer(
    ws: Workspace, uow: UnitOfWork, row: dict[str, Any], actor: Actor, payment: Payment
) -> RepaymentResult:
    """The loan as it stands on its open business date, with the payment booked."""
    opened = open_date(row["cob_through"], row["disbursed_on"])
    assert opened is not None
    return loan_view(
        ws,
        uow,
        row,
        actor,
        opened,
        loan_store.instalments(uow, row["id"]),
        result=RepaymentResult,
        payment=payment,
    )


def _cured(spec: ProductSpec, row: dict[str, Any], as_of: date) -> dict[str, Any]:
    """Days past due, bucket and class of a loan whose arrears were just paid: a
    non-performing one keeps its class until the evidence is in (`domain.classification`),
    graded on its own evidence; a worse class the borrower-level rule gave it stays until
    close of business weighs the borrower's loans again."""
    rules = spec.delinquency
    own = row.get("own_classification")
    graded = grade(
        rules.levels, rules.upgrade.rule(), own or row["classification"], 0, None, as_of, []
    )
    lifted = rank(rules.levels, row["classification"]) if own else 0
    code, kept = with_borrower_class(rules.levels, graded.code, lifted)
    return {
        **_current(spec),
        "classification": code,
        "own_classification": kept,
        "held_since": graded.held_since,
        "reason": graded.reason,
    }


def _current(spec: ProductSpec) -> dict[str, Any]:
    """Days past due, bucket and class of a loan with nothing past due."""
    rules = spec.delinquency
    return {
        "dpd": 0,
        "bucket": rules.buckets[0].name,
        "classification": rules.classification[0].code,
        "own_classification": None,
    }


def quote(ws: Workspace, actor: Actor, loan_id: int, as_of: date) -> PayoffQuote:
    """What it takes to settle the loan on `as_of`, by component."""
    actor.require(Permission.READ, "quote loans")

    def use_case(uow: UnitOfWork) -> PayoffQuote:
        loan = loan_store.get(uow, loan_id)
        if loan["state"] not in OUTSTANDING:
            raise Refused(
                f"loan {loan_id} is {loan['state']}; a payoff quote needs active or overdue"
            )
        check_not_backdated(ws, uow, loan, as_of)
        payoff = Loan.from_rows(loan, loan_store.instalments(uow, loan_id)).payoff(as_of)
        return PayoffQuote(
            loan_id=loan_id,
            as_of=as_of,
            principal=payoff.principal,
            interest=payoff.interest,
            fees=payoff.fee,
            penalty=payoff.penalty,
            credit=payoff.credit,
            total=payoff.total,
        )

    return run_in_transaction(ws.engine, use_case)
