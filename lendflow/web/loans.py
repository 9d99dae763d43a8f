"""Loan resources over /api/v1: each route parses, calls the use case the CLI calls, and
serves its result model's JSON (the document `--json` prints), so the two cannot drift."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from lendflow.credit.results import QueuePage
from lendflow.domain import bounds
from lendflow.domain.bounds import AmountKind
from lendflow.domain.errors import BadInput
from lendflow.domain.money import parse_amount, parse_decimal
from lendflow.loans.results import (
    DisbursementResult,
    EventPage,
    LoanDetail,
    LoanPage,
    LoanRequestList,
    LoanRequestView,
    LoanResult,
    LoanSchedule,
    PayoffQuote,
    PrepaymentResult,
    RefundResult,
    RepaymentResult,
    ScheduleVersions,
    TransactionPage,
)
from lendflow.web.auth import Acting, Ws
from lendflow.web.bodies import (
    MAX_LIMIT,
    MAX_OFFSET,
    AccelerationBody,
    ApplyBody,
    ApproveBody,
    CalcScheduleBody,
    Dated,
    DeclineBody,
    NoteBody,
    PrepaymentBody,
    RefundBody,
    RejectBody,
    RepaymentBody,
    RestructureBody,
    WaiverBody,
)
from lendflow.web.problems import RequestProblem, documented
from lendflow.workspace.context import Workspace

router = APIRouter(responses=documented(400, 401, 403, 404, 409, 412, 413, 422, 500))

LoanId = Annotated[int, Path(ge=1, le=bounds.MAX_ID, description="Loan id.")]
On = Annotated[date | None, Query(description="Business date (default today, Asia/Shanghai).")]
IfMatch = Annotated[
    str | None, Header(description="The loan's ETag; a stale one is refused with 412.")
]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most 200; default 50.")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=bounds.MAX_KEY_LENGTH,
        description="Required: a replay returns the first answer and moves no money twice.",
    ),
]
INCLUDES = ("schedule", "transactions", "events", "decision", "documents")
JSON = "application/json"


def served(result: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    """The result's JSON exactly as `--json` prints it (serialised by pydantic-core in one
    step, not through a dict and the json module: a quarter of a read's time)."""
    return Response(result.model_dump_json(), status_code=status, headers=headers, media_type=JSON)


def etag(version: int) -> str:
    return f'"v{version}"'


def business_date(ws: Workspace, body: Dated | None, on: date | None) -> date:
    """The body's business date, else `?on=`, else the lender's today."""
    chosen = (body.business_date if body is not None else None) or on or ws.today()
    return bounds.check_date(chosen, field="business_date")


def _money(text: str | None, field: str, kind: AmountKind) -> int | None:
    if text is None:
        return None
    fen = parse_amount(text, field=field)
    return bounds.check_amount(fen, kind, field=field)


def _check_match(ws: Workspace, loan_id: int, if_match: str | None) -> None:
    """An If-Match naming an older version of the loan is refused before anything runs.

    The use cases keep their own optimistic lock, so a change between this read and
    the action is still a 409, never a lost update.
    """
    if if_match is None or if_match.strip() == "*":
        return
    reader = ws.reader()
    try:
        current = etag(reader.loan(loan_id)["version"])
    finally:
        reader.close()
    if current not in (tag.strip().removeprefix("W/") for tag in if_match.split(",")):
        raise RequestProblem(
            f"loan {loan_id} changed since that ETag: it is now {current}", status=412
        )


def _key(key: str | None) -> str:
    if key is None:
        raise RequestProblem(
            "this request moves money: send an Idempotency-Key header", field="Idempotency-Key"
        )
    try:
        return bounds.check_key(key, field="Idempotency-Key")
    except BadInput as bad:
        raise RequestProblem(bad.message, field="Idempotency-Key") from None


class InFlight:
    """Idempotency keys whose first request this process is still answering.

    A second request with such a key waits up to `wait` seconds for the first to finish,
    then runs (and the use case replays the first answer); if the first is still going
    it is refused with 409, retry later. Across worker processes the use cases still
    hold: a repayment locks its loan row before it looks its key up, and a payout keeps
    one reference per loan.
    """

    def __init__(self, wait: float = 10.0) -> None:
        self.wait = wait
        self._lock = threading.Lock()
        self._running: dict[str, threading.Event] = {}

    @contextmanager
    def holding(self, key: str) -> Iterator[None]:
        done = self._claim(key)
        try:
            yield
        finally:
            with self._lock:
                del self._running[key]
            done.set()

    def _claim(self, key: str) -> threading.Event:
        deadline = time.monotonic() + self.wait
        while True:
            with self._lock:
                first = self._running.get(key)
                if first is None:
                    mine = self._running[key] = threading.Event()
                    return mine
            if not first.wait(max(0.0, deadline - time.monotonic())):
                raise RequestProblem(
                    f"idempotency key {key!r} is still being processed; retry when it is done",
                    status=409,
                )


def _in_flight(request: Request) -> InFlight:
    found: InFlight = request.app.state.in_flight
    return found


def _money_moved(
    result: RepaymentResult | DisbursementResult | RefundResult | PrepaymentResult, status: int
) -> Any:
    """The answer to a money move; a replay is the first answer again, marked in a header."""
    body = result.model_dump(mode="json", exclude={"replayed"})
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse(body, status_code=status, headers=headers)


@router.post(
    "/loans",
    status_code=201,
    response_model=LoanResult,
    tags=["loans"],
    responses={201: {"headers": {"Location": {"description": "The new loan."}}}},
)
def apply(body: ApplyBody, ws: Ws, actor: Acting, on: On = None) -> Any:
    """Take an application (`lendflow loan apply`)."""
    from lendflow.loans.applications import Application
    from lendflow.loans.applications import apply as apply_loan

    application = Application.parse(
        product=body.product,
        name=body.name,
        national_id=body.id_number,
        phone=body.phone,
        monthly_income=body.monthly_income,
        amount=body.amount,
        term=body.term,
        purpose=body.purpose,
        monthly_debt=body.monthly_debt,
        employment=body.employment,
        referrer=body.referrer,
        consents=body.consents,
        channel="api",
    )
    result = apply_loan(ws, actor, application, business_date(ws, body, on))
    return served(result, 201, {"Location": f"/api/v1/loans/{result.id}"})


@router.get("/loans", response_model=LoanPage, tags=["loans"])
def list_loans(
    ws: Ws,
    actor: Acting,
    state: Annotated[str | None, Query(max_length=64)] = None,
    product: Annotated[str | None, Query(max_length=64)] = None,
    dpd_min: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Any:
    """Loans by id, a page at a time, with the total that match."""
    from lendflow.loans.views import page_loans

    page = page_loans(
        ws, actor, state=state, product=product, dpd_min=dpd_min, offset=offset, limit=limit
    )
    return served(page)


@router.get(
    "/loans/{loan_id}",
    response_model=LoanDetail,
    tags=["loans"],
    responses={200: {"headers": {"ETag": {"description": "The loan's version."}}}},
)
def show(
    loan_id: LoanId,
    ws: Ws,
    actor: Acting,
    on: On = None,
    include: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Comma list: schedule, transactions, events, decision, documents.",
        ),
    ] = None,
) -> Any:
    """The loan as `lendflow loan show --json` shows it; `include` adds parts (each whole:
    the loan's transactions, events and documents as their lists' items)."""
    from lendflow.loans.show import show as show_loan

    wanted = _includes(include)
    shown = show_loan(ws, actor, loan_id, business_date(ws, None, on))
    if not wanted:
        return served(shown, headers={"ETag": etag(shown.version)})
    body = shown.model_dump(mode="json")
    if "schedule" in wanted:
        from lendflow.loans.views import schedule

        body["schedule"] = (
            schedule(ws, actor, loan_id).model_dump(mode="json") if shown.disbursed_on else None
        )
    if "transactions" in wanted:
        from lendflow.loans.views import loan_transactions

        body["transactions"] = loan_transactions(ws, actor, loan_id).model_dump(mode="json")[
            "items"
        ]
    if "events" in wanted:
        from lendflow.loans.views import loan_events

        body["events"] = [e.model_dump(mode="json") for e in loan_events(ws, actor, loan_id)]
    if "documents" in wanted:
        from lendflow.documents.issuing import list_documents

        body["documents"] = [d.model_dump(mode="json") for d in list_documents(ws, actor, loan_id)]
    return JSONResponse(body, headers={"ETag": etag(shown.version)})


def _includes(include: str | None) -> set[str]:
    wanted = {part.strip() for part in (include or "").split(",") if part.strip()}
    unknown = sorted(wanted - set(INCLUDES))
    if unknown:
        raise RequestProblem(
            f"include: {unknown[0]!r} is not one of {', '.join(INCLUDES)}",
            status=422,
            field="include",
        )
    return wanted


@router.post("/loans/{loan_id}/review", response_model=LoanResult, tags=["loan actions"])
def review(
    loan_id: LoanId,
    ws: Ws,
    actor: Acting,
    body: Dated | None = None,
    on: On = None,
    if_match: IfMatch = None,
) -> Any:
    """Review a submitted application (automated review approves, declines or refers)."""
    from lendflow.loans.applications import start_review

    _check_match(ws, loan_id, if_match)
    return served(start_review(ws, actor, loan_id, business_date(ws, body, on)))


def _note(body: NoteBody | None) -> str | None:
    if body is None or body.note is None:
        return None
    return bounds.check_note(body.note, field="note")


@router.post("/loans/{loan_id}/approve", response_model=LoanResult, tags=["loan actions"])
def approve(
    loan_id: LoanId,
    ws: Ws,
    actor: Acting,
    body: ApproveBody | None = None,
    on: On = None,
    if_match: IfMatch = None,
) -> Any:
    """Approve an application under review (default: the amount requested)."""
    from lendflow.loans.applications import approve as approve_loan

    amount = _money(body.amount if body else None, "amount", AmountKind.LOAN)
    _check_match(ws, loan_id, if_match)
    result = approve_loan(ws, actor, loan_id, business_date(ws, body, on), amount, _note(body))
    return served(result)


@router.post("/loans/{loan_id}/reject", response_model=LoanResult, tags=["loan actions"])
def reject(
    loan_id: LoanId,
    body: RejectBody,
    ws: Ws,
    actor: Acting,
    on: On = None,
    if_match: IfMatch = None,
) -> Any:
    """Decline an application under review with a reason code."""
    from lendflow.loans.applications import reject as reject_loan

    reason = bounds.check_code(body.reason, field="reason")
    _check_match(ws, loan_id, if_match)
    result = reject_loan(ws, actor, loan_id, business_date(ws, body, on), reason, _note(body))
    return served(result)


@router.post("/loans/{loan_id}/withdraw", response_model=LoanResult, tags=["loan actions"])
def withdraw(
    loan_id: LoanId,
    ws: Ws,
    actor: Acting,
    body: NoteBody | None = None,
    on: On = None,
    if_match: IfMatch = None,
) -> Any:
    """Withdraw an application before the money is paid out."""
    from lendflow.loans.applications import withdraw as withdraw_loan

    _check_match(ws, loan_id, if_match)
    return served(withdraw_loan(ws, actor, loan_id, business_date(ws, body, on), _note(body)))


@router.post("/loans/{loan_id}/disburse", response_model=DisbursementResult, tags=["loan actions"])
def disburse(
    loan_id: LoanId,
    request: Request,
    ws: Ws,
    actor: Acting,
    idempotency_key: IdempotencyKey = None,
    body: Dated | None = None,
    on: On = None,
    if_match: IfMatch = None,
) -> Any:
    """Pay out an approved loan and activate it (an `Idempotency-Key` is required)."""
    from lendflow.loans.disbursement import disburse as disburse_loan

    key = _key(idempotency_key)
    _check_match(ws, loan_id, if_match)
    with _in_flight(request).holding(key):
        result = disburse_loan(ws, actor, loan_id, business_date(ws, body, on), key)
    return _money_moved(result, 200)


@router.post(
    "/loans/{loan_id}/repayments",
    status_code=201,
    response_model=RepaymentResult,
    tags=["loan actions"],
    responses={201: {"headers": {"Idempotent-Replayed": {"description": "On a replay."}}}},
)
def repay(
    loan_id: LoanId,
    request: Request,
    body: RepaymentBody,
    ws: Ws,
    actor: Acting,
    idempotency_key: IdempotencyKey = None,
    on: On = None,
) -> Any:
    """Post a repayment on the open business date (an `Idempotency-Key` is required); with
    a `value_date` on a day already closed for the loan, a backdated one that reprocesses
    the loan (`lendflow loan repay --backdated`)."""
    from lendflow.loans.repayments import repay as repay_loan
    from lendflow.loans.repayments import repay_value_dated

    key = _key(idempotency_key)
    amount = _money(body.amount, "amount", AmountKind.REPAYMENT)
    if amount is None:  # pragma: no cover - the model requires it
        raise BadInput("amount is required")
    value_date = _value_date(body, on)
    with _in_flight(request).holding(key):
        if value_date is None:
            on_date = business_date(ws, body, on)
            result = repay_loan(ws, actor, loan_id, amount, on_date, key, body.reference)
        else:
            result = repay_value_dated(ws, actor, loan_id, amount, value_date, key, body.reference)
    return _money_moved(result, 201)


@router.post(
    "/loans/{loan_id}/prepayments",
    status_code=201,
    response_model=PrepaymentResult,
    tags=["loan actions"],
    responses={201: {"headers": {"Idempotent-Replayed": {"description": "On a replay."}}}},
)
def prepay(
    loan_id: LoanId,
    request: Request,
    body: PrepaymentBody,
    ws: Ws,
    actor: Acting,
    idempotency_key: IdempotencyKey = None,
    on: On = None,
) -> Any:
    """Principal returned early on the open business date (an `Idempotency-Key` is
    required): the rest of the schedule is recalculated by the product's `prepayment`
    setting and a contract supplement issued (`lendflow loan prepay`). A repayment, even
    beyond what is due, never recalculates: it pays the next instalments in advance."""
    from lendflow.loans.prepayments import prepay as prepay_loan

    key = _key(idempotency_key)
    amount = _money(body.amount, "amount", AmountKind.REPAYMENT)
    if amount is None:  # pragma: no cover - the model requires it
        raise BadInput("amount is required")
    with _in_flight(request).holding(key):
        result = prepay_loan(ws, actor, loan_id, amount, business_date(ws, body, on), key)
    return _money_moved(result, 201)


@router.get("/loans/{loan_id}/schedule-versions", response_model=ScheduleVersions, tags=["loans"])
def schedule_versions(loan_id: LoanId, ws: Ws, actor: Acting) -> Any:
    """Every kept version of the loan's schedule, oldest first."""
    from lendflow.loans.prepayments import schedule_versions as versions_of

    return served(versions_of(ws, actor, loan_id))


def _value_date(body: RepaymentBody, on: date | None) -> date | None:
    """The day the money arrived, when the body gives it; a business date besides it may
    only name the same day (a payment has one date)."""
    if body.value_date is None:
        return None
    day = bounds.check_date(body.value_date, field="value_date")
    for other, field in ((body.business_date, "business_date"), (on, "on")):
        if other is not None and other != day:
            raise RequestProblem(
                f"value_date {day} and {field} {other} differ: give the day the money arrived"
                " as value_date alone",
                status=422,
                field=field,
            )
    return day


RequestId = Annotated[int, Path(ge=1, le=bounds.MAX_ID, description="Loan request id.")]
_ASKED = {201: {"headers": {"Location": {"description": "The request, to approve."}}}}


def _asked(result: LoanRequestView) -> Any:
    return served(result, 201, {"Location": f"/api/v1/loan-requests/{result.id}"})


@router.post(
    "/loans/{loan_id}/waivers",
    status_code=201,
    response_model=LoanRequestView,
    tags=["loan actions"],
    responses=_ASKED,
)
def ask_waiver(loan_id: LoanId, body: WaiverBody, ws: Ws, actor: Acting, on: On = None) -> Any:
    """Ask to waive penalty or fees the borrower owes (`lendflow loan waive`); nothing moves
    until another person approves it (`POST /loan-requests/{id}/approve`)."""
    from lendflow.loans.loan_requests import ask_waiver as ask

    amount = _money(body.amount, "amount", AmountKind.FEE)
    assert amount is not None
    reason = bounds.check_note(body.reason, field="reason")
    day = business_date(ws, body, on)
    return _asked(ask(ws, actor, loan_id, body.component, amount, reason, day))


@router.post(
    "/loans/{loan_id}/acceleration",
    status_code=201,
    response_model=LoanRequestView,
    tags=["loan actions"],
    responses=_ASKED,
)
def ask_acceleration(
    loan_id: LoanId, ws: Ws, actor: Acting, body: AccelerationBody | None = None, on: On = None
) -> Any:
    """Ask to declare the whole loan due after the product's days past due (`lendflow loan
    accelerate`); another person approves it, and the borrower is sent a notice."""
    from lendflow.loans.loan_requests import ask_acceleration as ask

    body = body or AccelerationBody()
    reason = bounds.check_note(body.reason, field="reason")
    return _asked(ask(ws, actor, loan_id, reason, business_date(ws, body, on)))


@router.post(
    "/loans/{loan_id}/restructure",
    status_code=201,
    response_model=LoanRequestView,
    tags=["loan actions"],
    responses=_ASKED,
)
def ask_restructure(
    loan_id: LoanId, body: RestructureBody, ws: Ws, actor: Acting, on: On = None
) -> Any:
    """Ask for a new schedule of `term` repayments for everything the loan owes (`lendflow
    loan restructure`); another person approves it."""
    from lendflow.loans.loan_requests import ask_restructure as ask

    rate = (
        None if body.annual_rate is None else parse_decimal(body.annual_rate, field="annual_rate")
    )
    reason = bounds.check_note(body.reason, field="reason")
    day = business_date(ws, body, on)
    return _asked(ask(ws, actor, loan_id, body.term, rate, reason, day))


@router.get("/loans/{loan_id}/requests", response_model=LoanRequestList, tags=["loans"])
def loan_requests(loan_id: LoanId, ws: Ws, actor: Acting) -> Any:
    """The waivers, accelerations and restructures asked on the loan, oldest first."""
    from lendflow.loans.loan_requests import list_requests

    return served(list_requests(ws, actor, loan_id))


@router.post(
    "/loan-requests/{request_id}/approve", response_model=LoanRequestView, tags=["loan actions"]
)
def approve_request(
    request_id: RequestId, ws: Ws, actor: Acting, body: Dated | None = None, on: On = None
) -> Any:
    """Approve an action someone else asked for (four eyes); it is booked on the loan's open
    business date and the answer carries the loan as it left it."""
    from lendflow.loans.loan_requests import approve_request as approve

    return served(approve(ws, actor, request_id, business_date(ws, body, on)))


@router.post(
    "/loan-requests/{request_id}/decline", response_model=LoanRequestView, tags=["loan actions"]
)
def decline_request(
    request_id: RequestId, body: DeclineBody, ws: Ws, actor: Acting, on: On = None
) -> Any:
    """Decline an action someone else asked for, saying why (`lendflow loan
    decline-request`); nothing moves, and it can never be approved after."""
    from lendflow.loans.loan_requests import decline_request as decline

    reason = bounds.check_note(body.reason, field="reason")
    return served(decline(ws, actor, request_id, reason, business_date(ws, body, on)))


@router.post(
    "/loans/{loan_id}/refunds",
    status_code=201,
    response_model=RefundResult,
    tags=["loan actions"],
    responses={201: {"headers": {"Idempotent-Replayed": {"description": "On a replay."}}}},
)
def refund(
    loan_id: LoanId,
    request: Request,
    body: RefundBody,
    ws: Ws,
    actor: Acting,
    idempotency_key: IdempotencyKey = None,
    on: On = None,
) -> Any:
    """Pay the borrower's credit balance back through the gateway (`lendflow loan refund`);
    the `Idempotency-Key` is the refund's reference (letters, digits, `._/-`), so the same
    key pays once."""
    from lendflow.loans.refunds import refund as refund_credit

    key = _key(idempotency_key)
    try:
        reference = bounds.check_reference(key, field="Idempotency-Key")
    except BadInput as bad:
        raise RequestProblem(bad.message, field="Idempotency-Key") from None
    amount = _money(body.amount, "amount", AmountKind.REPAYMENT)
    assert amount is not None
    with _in_flight(request).holding(key):
        result = refund_credit(ws, actor, loan_id, amount, reference, business_date(ws, body, on))
    return _money_moved(result, 201)


@router.get("/loans/{loan_id}/quote", response_model=PayoffQuote, tags=["loans"])
def quote(loan_id: LoanId, ws: Ws, actor: Acting, on: On = None) -> Any:
    """What it takes to settle the loan on the business date."""
    from lendflow.loans.repayments import quote as quote_loan

    return served(quote_loan(ws, actor, loan_id, business_date(ws, None, on)))


@router.get("/loans/{loan_id}/schedule", response_model=LoanSchedule, tags=["loans"])
def schedule(loan_id: LoanId, ws: Ws, actor: Acting) -> Any:
    """The loan's schedule (`loan schedule --json`)."""
    from lendflow.loans.views import schedule as loan_schedule

    return served(loan_schedule(ws, actor, loan_id))


@router.get("/loans/{loan_id}/transactions", response_model=TransactionPage, tags=["loans"])
def transactions(
    loan_id: LoanId, ws: Ws, actor: Acting, offset: Offset = 0, limit: Limit = 50
) -> Any:
    """The loan's journal entries, oldest first, a page at a time (`loan transactions`)."""
    from lendflow.loans.views import loan_transactions

    return served(loan_transactions(ws, actor, loan_id, offset=offset, limit=limit))


@router.get("/loans/{loan_id}/events", response_model=EventPage, tags=["loans"])
def events(loan_id: LoanId, ws: Ws, actor: Acting, offset: Offset = 0, limit: Limit = 50) -> Any:
    """The loan's audit trail, oldest first, a page at a time (`loan events`)."""
    from lendflow.loans.views import page_loan_events

    return served(page_loan_events(ws, actor, loan_id, offset=offset, limit=limit))


@router.get("/queue", response_model=QueuePage, tags=["credit"])
def queue(
    ws: Ws,
    actor: Acting,
    product: Annotated[str | None, Query(max_length=64)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
    on: On = None,
) -> Any:
    """Referred applications waiting for a risk officer, oldest first, a page at a time."""
    from lendflow.credit.desk import review_queue

    return served(review_queue(ws, actor, business_date(ws, None, on), product, limit, offset))


@router.post("/calc/schedule", tags=["calculator"])
def calc_schedule(body: CalcScheduleBody, ws: Ws, actor: Acting) -> Any:
    """The schedule and APR calculator, every option `lendflow calc schedule` takes (its
    `--json` output); presets and values are spelled with underscores."""
    del actor  # any authenticated user may price
    from lendflow.domain.business_days import NonWorkingDue
    from lendflow.domain.calendar import DaysInMonth, DaysInYear, Frequency
    from lendflow.domain.money import Rounding
    from lendflow.domain.schedule import (
        Amortization,
        InterestMethod,
        InterestPeriod,
        LeapYears,
        Method,
        MultipleRounding,
    )
    from lendflow.loans.calculator import CalcOptions, calculate
    from lendflow.loans.presenters import schedule_view

    fee = parse_amount(body.upfront_fee, field="upfront_fee", allow_zero=True)
    options = CalcOptions(
        principal=_money(body.principal, "principal", AmountKind.LOAN) or 0,
        annual_rate=parse_decimal(body.annual_rate, field="annual_rate"),
        repayments=body.repayments,
        disbursed=bounds.check_date(body.disbursed, field="disbursed"),
        every=body.every,
        frequency=Frequency(body.frequency),
        amortization=Amortization(body.amortization) if body.amortization else None,
        interest=InterestMethod(body.interest) if body.interest else None,
        interest_period=InterestPeriod(body.interest_period),
        days_in_year=DaysInYear(body.days_in_year),
        days_in_month=DaysInMonth(body.days_in_month),
        principal_grace=body.principal_grace,
        interest_grace=body.interest_grace,
        instalment_multiple=_money(body.instalment_multiple, "instalment_multiple", AmountKind.FEE),
        first_repayment=(
            bounds.check_date(body.first_repayment, field="first_repayment")
            if body.first_repayment
            else None
        ),
        upfront_fee=bounds.check_amount(fee, AmountKind.FEE, field="upfront_fee", allow_zero=True),
        method=Method(body.method) if body.method else None,
        rounding=Rounding(body.rounding),
        leap_years=LeapYears(body.leap_years),
        multiple_rounding=MultipleRounding(body.multiple_rounding),
        non_working_due=NonWorkingDue(body.non_working_due),
    )
    rule = options.non_working_due
    dates, apr = calculate(options, calendar=None if rule is NonWorkingDue.IGNORE else ws.calendar)
    return JSONResponse(schedule_view(dates.schedule, apr, dates))


@router.post("/audit/verify", tags=["audit"])
def audit_verify(ws: Ws, actor: Acting) -> Any:
    """Check the journal, the loans, the documents and the event chain (auditor)."""
    from lendflow.loans.audit import verify

    return JSONResponse(verify(ws, actor).as_dict())
