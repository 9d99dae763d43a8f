"""What the loan use cases return: typed, frozen results every entry point presents.

The CLI prints them (`--json` is `model_dump(mode="json")`), the HTTP API and the
console will serve the same models, and idempotency keeps their JSON so a replay
answers with an equal result. Inside a model money is integer fen (`Fen`), exact;
in JSON it is the two-place yuan string `format_fen` gives ("10000.00"), and such a
string validates back to the same fen. Statuses are `LoanStatus`, dates `date`,
rates `Decimal` (their JSON keeps the digits they were stored with).

The JSON keeps the shape `lendflow loan ... --json` has always printed: a loan's
status under "state", an event's moves under "from" and "to", and a key that had
no value to give is left out (`payoff` of a loan nobody owes on, `replayed` of a
first answer) rather than printed as null.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    ConfigDict,
    Field,
    PlainSerializer,
)

from lendflow.domain.statuses import LoanStatus
from lendflow.workspace.results import Fen
from lendflow.workspace.results import Result as SharedResult


def _absent_if_none(value: Any) -> bool:
    return value is None


def _absent_if_false(value: Any) -> bool:
    return not value


class Result(SharedResult):
    """A loan result: the shared frozen `Result`, except that a stored idempotency answer
    with a key this version no longer shows is still replayed (the key is ignored), and
    the models are built on first use, so `loan show` pays for none it does not print."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


class CustomerView(Result):
    """The borrower as the actor may see them: masked unless their role may see personal data."""

    id: int
    name: str
    national_id: str
    phone: str


class Apr(Result):
    """Annual percentage rate, percent with two places ("23.45"): the IRR per repayment
    period annualised compound and simple, and the IRR over the actual dates of every
    payment (XIRR, 365-day year; `domain.apr`)."""

    compound: Decimal
    simple: Decimal
    actual_dates: Decimal | None = Field(
        default=None,
        description="XIRR over actual dates, 365-day year; null for a loan paid out before"
        " lendflow recorded it.",
    )

    @staticmethod
    def parse(stored: str | None) -> Apr | None:
        """The loan's APR column ("23.45/12.34/23.60": compound, simple, over actual dates;
        loans paid out before the third figure was kept have two), or None before payout."""
        return _apr_of(stored) if stored else None


@lru_cache(maxsize=1024)
def _apr_of(stored: str) -> Apr:
    """One immutable Apr per stored value, shared by the results that show it."""
    compound, simple, *actual = stored.split("/")
    return Apr(
        compound=Decimal(compound),
        simple=Decimal(simple),
        actual_dates=Decimal(actual[0]) if actual else None,
    )


class Outstanding(Result):
    """What the borrower owes on the result's date: all principal left, whatever else is due."""

    principal: Fen
    interest: Fen
    penalty: Fen
    fees: Fen
    total: Fen


class LoanResult(Result):
    """A loan with its terms, balances and standing on `as_of`: what `loan show` shows."""

    id: int
    status: LoanStatus = Field(
        serialization_alias="state", validation_alias=AliasChoices("status", "state")
    )
    product: str
    product_version_id: int
    customer: CustomerView
    purpose: str
    requested: Fen
    approved: Fen | None
    principal: Fen
    term: int
    method: str
    annual_rate: Decimal
    apr: Apr | None
    outstanding: Outstanding
    credit_balance: Fen
    dpd: int
    cob_through: date | None
    bucket: str
    classification: str
    applied_on: date
    decided_on: date | None
    approval_expires_on: date | None
    disbursed_on: date | None
    maturity_on: date | None
    closed_on: date | None
    reason_code: str | None
    risk_grade: str | None
    version: int
    as_of: date
    payoff: Fen | None = Field(default=None, exclude_if=_absent_if_none)
    """What settles the loan on `as_of`; only for a loan still owed on (active, overdue)."""
    charges_cap: ChargesCap | None = Field(default=None, exclude_if=_absent_if_none)
    """The all-in charges cap so far; only for a loan paid out."""
    accelerated_on: date | None = Field(default=None, exclude_if=_absent_if_none)
    """When the whole loan was declared due (acceleration), if it was."""
    restructured_on: date | None = Field(default=None, exclude_if=_absent_if_none)
    """When the loan last had a new schedule for its balance (restructure), if ever."""
    restructure_count: int = Field(default=0, exclude_if=_absent_if_false)


class ModelRef(Result):
    """A scorecard or decision table by code and version."""

    code: str
    version: int | None


class ScoredCharacteristic(Result):
    """One characteristic of a scorecard: the bin the applicant fell in, the points it lost
    against the characteristic's best bin, and the points it scored (keys as stored)."""

    bin: str
    lost: int
    points: int


class CreditDecision(Result):
    """One credit decision on the loan: who or which model versions decided, on what, why."""

    role: str
    decided_on: date
    actor: str
    outcome: str
    scorecard: ModelRef | None
    decision_table: ModelRef | None
    score: int | None
    probability_of_default: Decimal | None
    risk_grade: str | None
    approved_amount: Fen | None
    annual_rate: Decimal | None
    reasons: list[str]
    points: dict[str, ScoredCharacteristic] | None
    inputs: dict[str, Any] | None
    rules: list[Any] | None
    note: str | None


class ChargesCap(Result):
    """The all-in charges cap on a loan so far: the cap's rate a year and its base, what
    the borrower has been charged to date (interest and fees fallen due, net of waivers,
    and penalty accrued) and what the cap allows to date (through the last closed day)."""

    rate: Decimal
    base: str
    charged: Fen
    allowed: Fen


class LoanDetail(LoanResult):
    """`loan show`: the loan and every credit decision made on it, oldest first."""

    credit_decisions: list[CreditDecision]


class Payment(Result):
    """The repayment just posted, under the key that makes it post once, with the payer's
    own reference when one was given (a bank serial number)."""

    amount: Fen
    idempotency_key: str
    reference: str | None = Field(default=None, exclude_if=_absent_if_none)


class RepaymentResult(LoanResult):
    """The loan after a repayment, the payment, and whether this answer is a replay."""

    payment: Payment
    replayed: bool = Field(default=False, exclude_if=_absent_if_false)


class Recalculated(Result):
    """What a prepayment did to the schedule: the principal returned, the setting that
    recalculated the rest, and the figures before and after (interest of the instalments
    not yet due; `instalment` is the running one's principal and interest)."""

    amount: Fen
    method: str
    schedule_version: int
    principal_before: Fen
    principal_after: Fen
    instalment_before: Fen
    instalment_after: Fen
    interest_before: Fen
    interest_after: Fen
    interest_saved: Fen
    instalments_dropped: list[int]
    maturity_on: date
    supplement_sha256: str
    idempotency_key: str


class PrepaymentResult(LoanResult):
    """The loan after a partial prepayment and its recalculated schedule, and whether this
    answer is a replay."""

    prepayment: Recalculated
    replayed: bool = Field(default=False, exclude_if=_absent_if_false)


class ScheduleVersionRow(Result):
    n: int
    due_date: date
    principal: Fen
    interest: Fen
    fee: Fen


class ScheduleVersionView(Result):
    """One kept version of a loan's schedule (version 1: as it stood before the first
    recalculation)."""

    version: int
    effective_on: date
    reason: str
    method: str | None = None
    amount: Fen
    interest: Fen
    instalments: list[ScheduleVersionRow]


class ScheduleVersions(Result):
    loan_id: int
    versions: list[ScheduleVersionView]


class DisbursementResult(LoanResult):
    """The loan just paid out and activated, and whether this answer is a replay."""

    replayed: bool = Field(default=False, exclude_if=_absent_if_false)


class LoanSummary(Result):
    """One row of `loan list`."""

    id: int
    status: LoanStatus = Field(
        serialization_alias="state", validation_alias=AliasChoices("status", "state")
    )
    product: str
    customer: str
    """The borrower's name as the actor may see it."""
    amount: Fen
    """Principal paid out, else the amount approved, else the amount asked for."""
    principal_outstanding: Fen
    applied_on: date
    dpd: int


class LoanPage(Result):
    """One page of loans by id, with how many match in all."""

    total: int
    items: list[LoanSummary]


class PayoffQuote(Result):
    """What it takes to settle the loan on `as_of`, by component."""

    loan_id: int
    as_of: date
    principal: Fen
    interest: Fen
    fees: Fen
    penalty: Fen
    credit: Fen
    total: Fen


class PaidToDate(Result):
    """What was paid of one instalment, by component."""

    principal: Fen
    interest: Fen
    fee: Fen
    penalty: Fen
    total: Fen


class ScheduledInstalment(Result):
    """One instalment as scheduled (`balance` is the principal left after it), with what
    was charged, paid and waived since."""

    n: int
    due_date: date
    principal: Fen
    interest: Fen
    fee: Fen
    total: Fen
    balance: Fen
    penalty: Fen
    paid: PaidToDate
    waived: Fen
    paid_on: date | None
    on_time_until: date | None = Field(default=None, exclude_if=_absent_if_none)
    """Only for a due date on a non-working day under a product that grants the grace
    (`schedule.non_working_due` move or keep_with_grace): the next working day, the last
    on which a payment of the instalment is on time."""


class LoanSchedule(Result):
    """`loan schedule`: the loan's instalments (an upfront fee is instalment 0) and totals."""

    loan_id: int
    instalments: list[ScheduledInstalment]
    total_principal: Fen
    total_interest: Fen
    total_fees: Fen
    apr: Apr | None


class LoanEvent(Result):
    """One event of the loan's audit trail; the payload is the JSON text that was hashed."""

    id: int
    name: str
    trigger: str | None
    from_state: str | None = Field(
        serialization_alias="from", validation_alias=AliasChoices("from_state", "from")
    )
    to_state: str | None = Field(
        serialization_alias="to", validation_alias=AliasChoices("to_state", "to")
    )
    actor: str
    business_date: date
    recorded_at: Annotated[datetime, PlainSerializer(str, return_type=str, when_used="json")]
    """Wall-clock UTC time of recording, for audit only; JSON shows it as it always has."""
    payload: str
    hash: str


class TrailEvent(LoanEvent):
    """An event of a loan's or a product's trail, and whether its link in the chain holds."""

    held: bool


class EventTrail(Result):
    """Every event of one loan or one product, oldest first (`audit trail`)."""

    entity: str
    ref: str
    events: tuple[TrailEvent, ...]


class EventPage(Result):
    """One page of the loan's audit trail, oldest first, with how many events it has."""

    total: int
    items: list[LoanEvent]


class TransactionLine(Result):
    """One line of a journal entry that names the loan."""

    account: str
    debit: Fen
    credit: Fen


class LoanTransaction(Result):
    """One journal entry of the loan, with its lines that name the loan: a close of
    business entry also has lines of other loans, which are not the loan's to show."""

    id: int
    kind: str
    business_date: date
    actor: str
    memo: str
    """For a repayment, its idempotency key (`loan reverse-repayment --transaction`)."""
    reversal_of: int | None
    """The entry this one reverses (reprocessing reverses, never deletes)."""
    reversed_by: int | None
    """The later entry that reversed this one for the loan, if any."""
    reference: str | None
    """For a repayment, the payer's own reference (a bank serial number) when given."""
    lines: list[TransactionLine]


class TransactionPage(Result):
    """One page of the loan's journal entries, oldest first, with how many it has."""

    total: int
    items: list[LoanTransaction]


class RepaymentReversal(Result):
    """`loan reverse-repayment`: a reversal asked for, or approved and booked (`reversed`)."""

    id: int
    loan_id: int
    reference: str
    amount: Fen
    value_date: date
    reason: str
    status: str
    asked_by: str
    decided_by: str | None = None


class Claim(Result):
    """Who holds a referred application, and since when (UTC)."""

    loan_id: int
    claimed_by: str
    claimed_at: datetime


class CollectionContact(Result):
    """One contact with a borrower about money owed (local time, Asia/Shanghai)."""

    id: int
    loan_id: int
    channel: str
    outcome: str
    recipient: str
    contacted_at: str
    business_date: date
    actor: str


class CollectionContactList(Result):
    """A loan's collection contacts, oldest first, with how many there are."""

    total: int
    items: list[CollectionContact]


class ConsentView(Result):
    """A consent given with the application: which words (version, SHA-256), how, when."""

    name: str
    version: int
    text_sha256: str
    locale: str
    channel: str
    given_on: date
    withdrawn_on: date | None


class ConsentList(Result):
    """The consents given with a loan's application, with how many there are."""

    total: int
    items: list[ConsentView]


class CreditReportResult(Result):
    """A month sent to the credit reference system: how many records, how many of them
    correction records, how many went out for the first time, and what was sent where."""

    month: str
    as_at: date
    records: int
    corrections: int
    first_reported: int
    outstanding: Fen
    destination: str
    sha256: str
    size: int


class LoanRequestView(Result):
    """A loan action one person asked for and another approves or declines (four eyes): a
    waiver (`component`, `amount`), an acceleration, or a restructure (`term`,
    `annual_rate`, and once approved the new `principal`). Once approved, `loan` is the
    loan as the action left it; once declined, `declined_because` says why."""

    id: int
    kind: str
    loan_id: int
    status: str
    reason: str
    asked_by: str
    asked_on: date
    decided_by: str | None = None
    decided_on: date | None = None
    component: str | None = Field(default=None, exclude_if=_absent_if_none)
    amount: Fen | None = Field(default=None, exclude_if=_absent_if_none)
    term: int | None = Field(default=None, exclude_if=_absent_if_none)
    annual_rate: Decimal | None = Field(default=None, exclude_if=_absent_if_none)
    principal: Fen | None = Field(default=None, exclude_if=_absent_if_none)
    """A restructure's new principal: everything the old schedule's payoff came to."""
    notice_sha256: str | None = Field(default=None, exclude_if=_absent_if_none)
    """An acceleration's notice to the borrower, as issued (its SHA-256)."""
    declined_because: str | None = Field(default=None, exclude_if=_absent_if_none)
    """Why the person who declined it did (status `declined`)."""
    loan: LoanResult | None = Field(default=None, exclude_if=_absent_if_none)


class LoanRequestList(Result):
    """Every action asked on a loan, oldest first."""

    items: list[LoanRequestView]


class RefundView(Result):
    """A credit balance paid back: how much, under which reference, the gateway's receipt."""

    amount: Fen
    reference: str
    gateway_ref: str


class RefundResult(LoanResult):
    """The loan after a refund of its credit balance, and whether this answer is a replay."""

    refund: RefundView
    replayed: bool = Field(default=False, exclude_if=_absent_if_false)
