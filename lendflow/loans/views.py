"""Reading loans: show, list, schedule and events, as `actor` may see them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from lendflow.access.permissions import Actor, Permission
from lendflow.customers import registry as customers
from lendflow.domain.business_days import NonWorkingDue
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.statuses import DISBURSED
from lendflow.loans.presenter import present_loan
from lendflow.loans.records import loan_event
from lendflow.loans.reprocessing import reference_of
from lendflow.loans.results import (
    Apr,
    DisbursementResult,
    EventPage,
    LoanDetail,
    LoanEvent,
    LoanPage,
    LoanResult,
    LoanSchedule,
    LoanSummary,
    LoanTransaction,
    PaidToDate,
    RepaymentResult,
    ScheduledInstalment,
    TransactionLine,
    TransactionPage,
)
from lendflow.products.catalogue import spec_for
from lendflow.store import events, journal
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

L = TypeVar("L", bound=LoanResult)
R = TypeVar("R", RepaymentResult, DisbursementResult)


def loan_view(
    ws: Workspace,
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    actor: Actor,
    as_of: date,
    rows: list[dict[str, Any]] | None = None,
    customer: Mapping[str, Any] | None = None,
    result: type[L] = LoanResult,  # type: ignore[assignment]
    **more: Any,
) -> L:
    """The loan as `loan show` shows it, as `result` with the `more` fields it adds; `rows`
    (its current instalments) and `customer` (its borrower's row) save reading them again
    when the caller has them."""
    if rows is None:
        rows = loan_store.instalments(uow, loan["id"]) if loan["state"] in DISBURSED else []
    if customer is None:
        customer = customers.get(uow, loan["customer_id"])
    cap = ws.policy.charges_cap
    return present_loan(loan, rows, customer, ws.cipher, actor, as_of, result, cap, **more)


def show(ws: Workspace, actor: Actor, loan_id: int, as_of: date) -> LoanDetail:
    """One loan as `actor` may see it, read without SQLAlchemy (see `store.reads`)."""
    from lendflow.loans.show import show as fast_show

    return fast_show(ws, actor, loan_id, as_of)


def list_loans(
    ws: Workspace,
    actor: Actor,
    *,
    state: str | None = None,
    product: str | None = None,
    limit: int = 100,
) -> list[LoanSummary]:
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> list[LoanSummary]:
        out = []
        for loan in loan_store.list_loans(uow, state=state, product=product, limit=limit):
            customer = customers.customer_view(
                customers.get(uow, loan["customer_id"]), ws.cipher, actor
            )
            out.append(
                LoanSummary(
                    id=loan["id"],
                    status=loan["state"],
                    product=loan["product_code"],
                    customer=customer["name"],
                    amount=loan["principal"] or loan["approved_amount"] or loan["requested_amount"],
                    principal_outstanding=loan["principal_outstanding"],
                    applied_on=loan["applied_on"],
                    dpd=loan["dpd"],
                )
            )
        return out

    return run_in_transaction(ws.engine, use_case)


def page_loans(
    ws: Workspace,
    actor: Actor,
    *,
    state: str | None = None,
    product: str | None = None,
    dpd_min: int | None = None,
    dpd_max: int | None = None,
    bucket: str | None = None,
    customer_ids: list[int] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> LoanPage:
    """One page of loans by id with the total that match, as `actor` may see them."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> LoanPage:
        total, rows = loan_store.page_loans(
            uow,
            state=state,
            product=product,
            dpd_min=dpd_min,
            dpd_max=dpd_max,
            bucket=bucket,
            customer_ids=customer_ids,
            offset=offset,
            limit=limit,
        )
        return LoanPage(total=total, items=[_summary(ws, uow, actor, loan) for loan in rows])

    return run_in_transaction(ws.engine, use_case)


def _summary(ws: Workspace, uow: UnitOfWork, actor: Actor, loan: Mapping[str, Any]) -> LoanSummary:
    customer = customers.customer_view(customers.get(uow, loan["customer_id"]), ws.cipher, actor)
    return LoanSummary(
        id=loan["id"],
        status=loan["state"],
        product=loan["product_code"],
        customer=customer["name"],
        amount=loan["principal"] or loan["approved_amount"] or loan["requested_amount"],
        principal_outstanding=loan["principal_outstanding"],
        applied_on=loan["applied_on"],
        dpd=loan["dpd"],
    )


def schedule(ws: Workspace, actor: Actor, loan_id: int) -> LoanSchedule:
    """The loan's schedule in the calculator's shape, each instalment with what was paid."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> LoanSchedule:
        loan = loan_store.get(uow, loan_id)
        rows = loan_store.instalments(uow, loan_id)
        if not rows:
            raise Refused(f"loan {loan_id} is {loan['state']}; it has no schedule until disbursed")
        balance = loan["principal"]
        instalments = []
        grace = spec_for(uow, loan).schedule.non_working_due is not NonWorkingDue.IGNORE
        for r in rows:
            balance -= r["principal"]
            until = ws.calendar.moved(r["due_date"])[0] if grace and r["n"] else None
            instalments.append(
                ScheduledInstalment(
                    n=r["n"],
                    due_date=r["due_date"],
                    principal=r["principal"],
                    interest=r["interest"],
                    fee=r["fee"],
                    total=r["principal"] + r["interest"] + r["fee"],
                    balance=balance,
                    penalty=r["penalty"],
                    paid=PaidToDate(
                        principal=r["principal_paid"],
                        interest=r["interest_paid"],
                        fee=r["fee_paid"],
                        penalty=r["penalty_paid"],
                        total=r["principal_paid"]
                        + r["interest_paid"]
                        + r["fee_paid"]
                        + r["penalty_paid"],
                    ),
                    waived=r["interest_waived"] + r["fee_waived"],
                    paid_on=r["paid_on"],
                    on_time_until=until if until != r["due_date"] else None,
                )
            )
        return LoanSchedule(
            loan_id=loan_id,
            instalments=instalments,
            total_principal=sum(r["principal"] for r in rows),
            total_interest=sum(r["interest"] for r in rows),
            total_fees=sum(r["fee"] for r in rows),
            apr=Apr.parse(loan["apr"]),
        )

    return run_in_transaction(ws.engine, use_case)


def loan_events(ws: Workspace, actor: Actor, loan_id: int) -> list[LoanEvent]:
    """The loan's whole audit trail, oldest first."""
    return page_loan_events(ws, actor, loan_id, limit=None).items


def page_loan_events(
    ws: Workspace, actor: Actor, loan_id: int, *, offset: int = 0, limit: int | None = 50
) -> EventPage:
    """One page of the loan's audit trail, oldest first (all of it without a `limit`),
    with how many events it has."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> EventPage:
        loan_store.get(uow, loan_id)
        total, rows = events.page_for_entity(uow, "loan", str(loan_id), offset, limit)
        return EventPage(total=total, items=[_event(e) for e in rows])

    return run_in_transaction(ws.engine, use_case)


def _event(e: Mapping[str, Any]) -> LoanEvent:
    return LoanEvent(
        id=e["id"],
        name=e["name"],
        trigger=e["trigger"],
        from_state=e["from_state"],
        to_state=e["to_state"],
        actor=e["actor"],
        business_date=e["business_date"],
        recorded_at=e["recorded_at"],
        payload=e["payload"],
        hash=e["hash"],
    )


PAYMENT_KINDS = ("repayment", "recovery")
PAYMENT_EVENTS = ("RepaymentPosted", "RecoveryPosted", "RepaymentBackdated")
"""The events that keep a payment's key and the payer's reference."""


def loan_transactions(
    ws: Workspace, actor: Actor, loan_id: int, *, offset: int = 0, limit: int | None = None
) -> TransactionPage:
    """The loan's journal entries, oldest first (a page of them when `limit` is given),
    each with its lines that name the loan, the entry that reversed it if one did, and
    for a repayment the payer's reference (kept in the payment's event)."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> TransactionPage:
        loan_store.get(uow, loan_id)
        total, entries = journal.loan_entries(uow, loan_id, offset, limit)
        references: dict[str, str] = {}
        if any(e["kind"] in PAYMENT_KINDS for e in entries):
            for payload in events.payloads_named(uow, "loan", str(loan_id), PAYMENT_EVENTS):
                if payload.get("reference") and payload.get("idempotency_key"):
                    references.setdefault(payload["idempotency_key"], payload["reference"])
        return TransactionPage(
            total=total,
            items=[
                LoanTransaction(
                    id=e["id"],
                    kind=e["kind"],
                    business_date=e["business_date"],
                    actor=e["actor"],
                    memo=e["memo"],
                    reversal_of=e["reversal_of"],
                    reversed_by=e["reversed_by"],
                    reference=(
                        references.get(reference_of(e)) if e["kind"] in PAYMENT_KINDS else None
                    ),
                    lines=[
                        TransactionLine(account=account, debit=debit, credit=credit)
                        for account, debit, credit in e["lines"]
                    ],
                )
                for e in entries
            ],
        )

    return run_in_transaction(ws.engine, use_case)


def ids_in_state(ws: Workspace, actor: Actor, state: str, batch: int = 10_000) -> list[int]:
    """Ids of every loan in `state`, oldest first (read in batches)."""
    actor.require(Permission.READ, "read loans")
    found: list[int] = []
    while True:
        after = found[-1] if found else 0
        page = run_in_transaction(
            ws.engine, lambda uow, after=after: loan_store.ids_in_state(uow, state, after, batch)
        )
        found += page
        if len(page) < batch:
            return found


def storable(result: LoanResult) -> dict[str, Any]:
    """A loan result fit to keep as an idempotency answer: its JSON with the customer by id
    only (the store writes it with sorted keys, so the same result keeps the same text).

    The stored answer may be replayed to someone who may not see personal data,
    and nothing personal is kept outside the encrypted customer record.
    """
    data = result.model_dump(mode="json")
    data["customer"] = {"id": result.customer.id}
    return data


def replay_of(
    ws: Workspace, uow: UnitOfWork, stored: dict[str, Any], actor: Actor, result: type[R]
) -> R:
    """A stored answer as `result` again, marked a replay, with the customer shown as
    `actor` may see them now."""
    customer = customers.customer_view(
        customers.get(uow, stored["customer"]["id"]), ws.cipher, actor
    )
    return result.model_validate({**stored, "customer": customer, "replayed": True})


def customers_named_by(ws: Workspace, actor: Actor, text: str) -> list[int]:
    """The customers a national ID or mobile number names (by keyed hash), to list their
    loans; anything else is refused in one line."""
    actor.require(Permission.READ, "read loans")
    found = run_in_transaction(
        ws.engine, lambda uow: customers.find_by_identity(uow, ws.cipher, text.strip())
    )
    if found is None:
        raise BadInput("search by a loan id, an 18-character national ID or a mobile number")
    return found


def events_verified(ws: Workspace, actor: Actor, loan_id: int) -> dict[int, bool]:
    """For each of the loan's events, whether its link in the chain holds (its content
    matches its keyed hash and the next link names it); the audit walks the whole chain."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> dict[int, bool]:
        loan_store.get(uow, loan_id)
        return events.links_hold(uow, events.for_entity(uow, "loan", str(loan_id)))

    return run_in_transaction(ws.engine, use_case)


def reveal_customer(ws: Workspace, actor: Actor, loan_id: int) -> dict[str, str]:
    """The borrower's name, national ID and phone in full, for a role that may see them;
    the reveal is an event of the loan (who looked, when), since the console masks them
    even for those roles until asked."""
    actor.require(Permission.SEE_PERSONAL_DATA, "see personal data in full")

    def use_case(uow: UnitOfWork) -> dict[str, str]:
        loan = loan_store.get(uow, loan_id)
        shown = customers.customer_view(customers.get(uow, loan["customer_id"]), ws.cipher, actor)
        loan_event(
            uow,
            loan,
            "PersonalDataRevealed",
            actor,
            ws.today(),
            {"fields": ["national_id", "phone"]},
        )
        return {k: shown[k] for k in ("name", "national_id", "phone")}

    return run_in_transaction(ws.engine, use_case)
