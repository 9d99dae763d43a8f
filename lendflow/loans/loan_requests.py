"""Loan actions the contract promises, asked by one person and approved by another
(four eyes): waiving penalty or fees, declaring the whole loan due early (acceleration),
and a new schedule for the balance (restructuring).

An operator asks (`ask_waiver`, `ask_acceleration`, `ask_restructure`: permission
`ask_loan_actions`); a risk officer or an admin who did not ask approves
(`approve_request`: `approve_loan_actions`), and only then does anything move, in one
transaction, on the loan's open business date: the loan machine checks the move
(`waive`, `accelerate`, `restructure`), the aggregate's rules (`domain.loan_actions`)
change the instalments, the journal is posted and the event appended. Every rule is
checked again at approval, against the loan as it stands then. One who may approve may
instead decline it, saying why (`decline_request`): nothing moves, the loan's trail
records it, and a declined request is never approved after. The requests share one table
(`store.loan_requests`); repayment reversals keep their own (`loans.reversals`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain import loan_actions
from lendflow.domain.business_date import check_horizon
from lendflow.domain.classification import grade, rank, with_borrower_class
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.ledger import Line
from lendflow.domain.loan import Loan
from lendflow.domain.money import format_fen
from lendflow.domain.schedule import MAX_REPAYMENTS, generate
from lendflow.domain.statuses import OUTSTANDING
from lendflow.loans.records import accrual_columns, loan_event, transition
from lendflow.loans.repayments import check_not_backdated
from lendflow.loans.results import LoanRequestList, LoanRequestView
from lendflow.loans.views import loan_view
from lendflow.products.catalogue import spec_for
from lendflow.states.machine import machine
from lendflow.store import journal
from lendflow.store import loan_requests as requests
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.config.product_spec import ProductSpec
    from lendflow.workspace.context import Workspace

KINDS = ("waive", "accelerate", "restructure")
MAX_REASON = 200


# --- asking ---------------------------------------------------------------------------


def ask_waiver(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    component: str,
    amount: int,
    reason: str,
    as_of: date,
) -> LoanRequestView:
    """Ask to waive `amount` of the penalty or fees the borrower owes; another person
    approves it. Refused beyond what is owed now."""
    if component not in loan_actions.WAIVABLE:
        raise BadInput(f"a waiver is of penalty or fees, not {component!r}")
    if amount <= 0:
        raise BadInput("the amount to waive must be more than zero")

    def check(uow: UnitOfWork, loan: dict[str, Any]) -> None:
        _check_waivable(loan, component, amount)

    payload = {"component": component, "amount": amount}
    return _ask(ws, actor, "waive", loan_id, payload, reason, as_of, check)


def ask_acceleration(
    ws: Workspace, actor: Actor, loan_id: int, reason: str, as_of: date
) -> LoanRequestView:
    """Ask to declare the whole loan due (the product's days past due must have passed);
    another person approves it."""

    def check(uow: UnitOfWork, loan: dict[str, Any]) -> None:
        _check_late_enough(loan, spec_for(uow, loan))

    return _ask(ws, actor, "accelerate", loan_id, {}, reason, as_of, check)


def ask_restructure(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    term: int,
    annual_rate: Decimal | None,
    reason: str,
    as_of: date,
) -> LoanRequestView:
    """Ask for a new schedule of `term` repayments for what the loan owes (at the loan's
    rate unless `annual_rate` is given, within the product's band); another person
    approves it."""
    if not 1 <= term <= MAX_REPAYMENTS:
        raise BadInput(f"--term must be 1 to {MAX_REPAYMENTS} repayments")

    def check(uow: UnitOfWork, loan: dict[str, Any]) -> None:
        _check_rate(loan, spec_for(uow, loan), annual_rate)

    payload: dict[str, Any] = {"term": term}
    if annual_rate is not None:
        payload["annual_rate"] = str(annual_rate)
    return _ask(ws, actor, "restructure", loan_id, payload, reason, as_of, check)


def _ask(
    ws: Workspace,
    actor: Actor,
    kind: str,
    loan_id: int,
    payload: dict[str, Any],
    reason: str,
    as_of: date,
    check: Any,
) -> LoanRequestView:
    actor.require(Permission.ASK_LOAN_ACTIONS, "ask for loan actions")
    reason = _reason(reason)
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)

    def use_case(uow: UnitOfWork) -> LoanRequestView:
        loan = loan_store.get(uow, loan_id, for_update=True)
        _check_status(loan, kind)
        check(uow, loan)
        waiting = requests.pending_for(uow, loan_id, kind)
        if waiting is not None:
            raise Refused(
                f"loan {loan_id} already has a {kind} request waiting: {waiting['id']}"
                f" (loan approve-request {waiting['id']})"
            )
        row = requests.add(uow, kind, loan_id, {**payload, "reason": reason}, actor.name, as_of)
        loan_event(
            uow,
            loan,
            "LoanActionAsked",
            actor,
            as_of,
            {"request_id": row["id"], "kind": kind, **_figures(payload)},
        )
        return _view(row)

    return run_in_transaction(ws.engine, use_case)


# --- approving ------------------------------------------------------------------------


def _pending(uow: UnitOfWork, actor: Actor, request_id: int, verb: str) -> dict[str, Any]:
    """The request, still pending and asked by someone else (four eyes)."""
    asked = requests.get(uow, request_id)
    if asked["status"] != "pending":
        raise Refused(f"loan request {request_id} is already {asked['status']}")
    if asked["asked_by"] == actor.name:
        raise Refused(
            f"{actor.name} asked for request {request_id}; another person must {verb} it"
            " (four eyes)"
        )
    return asked


def approve_request(ws: Workspace, actor: Actor, request_id: int, as_of: date) -> LoanRequestView:
    """Approve an action someone else asked for and book it on the loan's open business
    date; every rule is checked again against the loan as it stands now."""
    actor.require(Permission.APPROVE_LOAN_ACTIONS, "approve loan actions")
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)

    def use_case(uow: UnitOfWork) -> LoanRequestView:
        asked = _pending(uow, actor, request_id, "approve")
        loan = loan_store.get(uow, asked["loan_id"], for_update=True)
        _check_status(loan, asked["kind"])
        check_not_backdated(ws, uow, loan, as_of)
        book = {"waive": _waive, "accelerate": _accelerate, "restructure": _restructure}
        loan, booked = book[asked["kind"]](ws, uow, actor, loan, asked, as_of)
        requests.decide(uow, request_id, "approved", actor.name, as_of, booked)
        decided = {
            **asked,
            "payload": booked,
            "status": "approved",
            "decided_by": actor.name,
            "decided_on": as_of,
        }
        return _view(decided, loan_view(ws, uow, loan, actor, as_of))

    return run_in_transaction(ws.engine, use_case)


# --- declining ------------------------------------------------------------------------


def decline_request(
    ws: Workspace, actor: Actor, request_id: int, reason: str, as_of: date
) -> LoanRequestView:
    """Decline an action someone else asked for, saying why: nothing moves, the request
    can never be approved after, and the loan's trail records it (`LoanActionDeclined`).
    Only those who may approve may decline (four eyes: not the asker)."""
    actor.require(Permission.APPROVE_LOAN_ACTIONS, "decline loan actions")
    reason = _reason(reason)
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)

    def use_case(uow: UnitOfWork) -> LoanRequestView:
        asked = _pending(uow, actor, request_id, "decline")
        if as_of < asked["asked_on"]:
            raise BadInput(
                f"loan request {request_id} was asked on {asked['asked_on']}; it cannot be"
                f" declined on {as_of}, before that"
            )
        loan = loan_store.get(uow, asked["loan_id"])
        payload = {**asked["payload"], "declined_because": reason}
        requests.decide(uow, request_id, "declined", actor.name, as_of, payload)
        loan_event(
            uow,
            loan,
            "LoanActionDeclined",
            actor,
            as_of,
            {
                "request_id": request_id,
                "kind": asked["kind"],
                "asked_by": asked["asked_by"],
                "reason": reason,
                **_figures(asked["payload"]),
            },
        )
        declined = {
            **asked,
            "payload": payload,
            "status": "declined",
            "decided_by": actor.name,
            "decided_on": as_of,
        }
        return _view(declined)

    return run_in_transaction(ws.engine, use_case)


def list_requests(ws: Workspace, actor: Actor, loan_id: int) -> LoanRequestList:
    """Every action asked on the loan, oldest first."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> LoanRequestList:
        loan_store.get(uow, loan_id)
        return LoanRequestList(items=[_view(row) for row in requests.for_loan(uow, loan_id)])

    return run_in_transaction(ws.engine, use_case)


def _waive(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    row: dict[str, Any],
    asked: dict[str, Any],
    as_of: date,
) -> tuple[dict[str, Any], dict[str, Any]]:
    payload = asked["payload"]
    component, amount = payload["component"], payload["amount"]
    _check_waivable(row, component, amount)
    loan = Loan.from_rows(row, loan_store.instalments(uow, row["id"]))
    outcome = loan_actions.waive(loan, component, amount)
    _write(uow, actor, loan, outcome.entries, as_of, asked["id"])
    updated = transition(
        uow,
        row,
        "waive",
        actor=actor,
        as_of=as_of,
        event_name="ChargesWaived",
        changes=outcome.balances,
        payload=_approved_payload(asked, {"component": component, "amount": amount}),
    )
    return updated, payload


def _accelerate(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    row: dict[str, Any],
    asked: dict[str, Any],
    as_of: date,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from lendflow.documents.issuing import issue_acceleration_notice

    spec = spec_for(uow, row)
    _check_late_enough(row, spec)
    loan = Loan.from_rows(row, loan_store.instalments(uow, row["id"]))
    outcome = loan_actions.accelerate(loan, as_of)
    _write(uow, actor, loan, outcome.entries, as_of, asked["id"])
    updated = transition(
        uow,
        row,
        "accelerate",
        actor=actor,
        as_of=as_of,
        event_name="LoanAccelerated",
        context={
            "days_past_due": row["dpd"],
            "acceleration_days": spec.delinquency.acceleration_dpd,
        },
        changes={**outcome.balances, "accelerated_on": as_of},
        payload=_approved_payload(asked, {"dpd": row["dpd"], **outcome.figures}),
    )
    notice = issue_acceleration_notice(ws, uow, updated, actor, as_of)
    loan_event(
        uow,
        updated,
        "AccelerationNoticeIssued",
        actor,
        as_of,
        {"request_id": asked["id"], "document_sha256": notice["sha256"]},
    )
    return updated, {**asked["payload"], "notice_sha256": notice["sha256"]}


def _restructure(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    row: dict[str, Any],
    asked: dict[str, Any],
    as_of: date,
) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = spec_for(uow, row)
    payload = asked["payload"]
    rate = Decimal(payload.get("annual_rate") or row["annual_rate"])
    _check_rate(row, spec, rate)
    rows = loan_store.instalments(uow, row["id"])
    loan = Loan.from_rows(row, rows)
    outcome = loan_actions.restructure(loan, as_of)
    principal = outcome.figures["principal"]
    first_n = max(r["n"] for r in rows) + 1
    schedule = generate(
        loan_actions.restructured_terms(
            spec.schedule_terms(principal, payload["term"], as_of, annual_rate=rate)
        )
    )
    _write(uow, actor, loan, outcome.entries, as_of, asked["id"])
    new_rows = [_new_row(row["id"], first_n - 1 + i.n, i) for i in schedule.instalments]
    loan_store.insert_instalments(uow, new_rows)
    rules = spec.delinquency
    booked = {
        **payload,
        "annual_rate": str(rate),
        "principal": principal,
        "first_n": first_n,
        "on": as_of.isoformat(),
    }
    updated = transition(
        uow,
        row,
        "restructure",
        actor=actor,
        as_of=as_of,
        event_name="LoanRestructured",
        changes={
            **outcome.balances,
            "dpd": 0,
            "bucket": rules.buckets[0].name,
            **_restructured_class(spec, row, as_of),
            "restructured_on": as_of,
            "restructure_count": (row.get("restructure_count") or 0) + 1,
            "maturity_on": schedule.maturity,
            # the new schedule accrues from the restructure's own close of business on
            **accrual_columns(new_rows, as_of),
            "interest_accrued": 0,
        },
        payload=_approved_payload(
            asked,
            {
                **outcome.figures,
                "term": payload["term"],
                "annual_rate": str(rate),
                "first_n": first_n,
                "maturity_on": schedule.maturity.isoformat(),
            },
        ),
    )
    return updated, booked


def _restructured_class(spec: ProductSpec, row: dict[str, Any], as_of: date) -> dict[str, Any]:
    """A restructured loan's class: at least the product's floor (special mention) through
    its observation period, and one non-performing before keeps its class, held until the
    evidence is in, as if its arrears were paid today (`domain.classification`)."""
    rules = spec.delinquency
    floor = rules.upgrade.restructure(as_of)
    assert floor is not None
    own = row.get("own_classification")
    graded = grade(
        rules.levels, rules.upgrade.rule(), own or row["classification"], 0, None, as_of, [], floor
    )
    # a worse class the borrower-level rule gave it stays until close of business
    lifted = rank(rules.levels, row["classification"]) if own else 0
    code, kept = with_borrower_class(rules.levels, graded.code, lifted)
    return {"classification": code, "own_classification": kept, "held_since": graded.held_since}


def _new_row(loan_id: int, n: int, item: Any) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "n": n,
        "due_date": item.due_date,
        "principal": item.principal,
        "interest": item.interest,
        "fee": item.fee,
        "penalty": 0,
        "principal_paid": 0,
        "interest_paid": 0,
        "fee_paid": 0,
        "penalty_paid": 0,
        "interest_waived": 0,
        "fee_waived": 0,
        "recognised": False,
    }


def _write(
    uow: UnitOfWork,
    actor: Actor,
    loan: Loan,
    entries: list[tuple[str, list[Line]]],
    as_of: date,
    request_id: int,
) -> None:
    """The instalments the action changed (each once) and its entries, keyed by request."""
    for instalment_id, values in loan.changed_instalments().items():
        loan_store.update_instalment(uow, instalment_id, values)
    for kind, lines in entries:
        journal.post(
            uow,
            kind=kind,
            lines=lines,
            business_date=as_of,
            actor=actor.name,
            loan_id=loan.id,
            idempotency_key=None if kind == "charges_due" else f"request:{request_id}",
            memo=f"loan request {request_id}",
        )


# --- rules checked when asked and again when approved -----------------------------------


def _check_status(loan: dict[str, Any], kind: str) -> None:
    if loan["state"] not in OUTSTANDING or not machine("loan").may(
        loan["state"], kind, {"days_past_due": loan["dpd"], "acceleration_days": 0}
    ):
        raise Refused(machine("loan").refusal(f"loan {loan['id']}", loan["state"], kind))


def _check_waivable(loan: dict[str, Any], component: str, amount: int) -> None:
    owed = loan["penalty_receivable"] if component == "penalty" else loan["fee_receivable"]
    if amount > owed:
        raise Refused(
            f"loan {loan['id']}: cannot waive {format_fen(amount)} of {component}; only"
            f" {format_fen(owed)} is owed"
        )


def _check_late_enough(loan: dict[str, Any], spec: ProductSpec) -> None:
    if loan.get("accelerated_on") is not None:
        raise Refused(f"loan {loan['id']} was already declared due on {loan['accelerated_on']}")
    needed = spec.delinquency.acceleration_dpd
    if loan["dpd"] < needed:
        raise Refused(
            f"refused by rule ACCELERATION_DAYS: loan {loan['id']} is {loan['dpd']} days past"
            f" due; {spec.code} declares a loan due only from {needed} days past due"
        )


def _check_rate(loan: dict[str, Any], spec: ProductSpec, rate: Decimal | None) -> None:
    if rate is None:
        return
    low, high = spec.rate.lowest, spec.rate.highest
    if not low <= rate <= high:
        raise Refused(
            f"refused by rule RESTRUCTURE_RATE: loan {loan['id']}: a new rate of {rate}% lies"
            f" outside {spec.code}'s band [{low}%, {high}%]"
        )


# --- presenting -----------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise BadInput(f"--reason: say why in 1 to {MAX_REASON} characters")
    return reason


def _figures(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "reason"}


def _approved_payload(asked: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "request_id": asked["id"],
        "asked_by": asked["asked_by"],
        "reason": asked["payload"]["reason"],
        **figures,
    }


def _view(row: dict[str, Any], loan: Any = None) -> LoanRequestView:
    payload = row["payload"]
    rate = payload.get("annual_rate")
    return LoanRequestView(
        id=row["id"],
        kind=row["kind"],
        loan_id=row["loan_id"],
        status=row["status"],
        reason=payload["reason"],
        asked_by=row["asked_by"],
        asked_on=row["asked_on"],
        decided_by=row.get("decided_by"),
        decided_on=row.get("decided_on"),
        component=payload.get("component"),
        amount=payload.get("amount"),
        term=payload.get("term"),
        annual_rate=None if rate is None else Decimal(rate),
        principal=payload.get("principal"),
        notice_sha256=payload.get("notice_sha256"),
        declined_because=payload.get("declined_because"),
        loan=loan,
    )
