"""Request bodies: strict models (an unknown field is refused), amounts as yuan strings.

Amounts stay text here and are read into fen by `domain.money` and held to
`domain.bounds` in the route, never through a float.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from lendflow.domain import bounds
from lendflow.domain.schedule import MAX_REPAYMENTS

Yuan = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$",
        description="An amount in yuan as a decimal string (two places at most).",
        examples=["5000.00"],
    ),
]
Code = Annotated[str, Field(min_length=1, max_length=64, examples=["cash-easy"])]
Note = Annotated[str, Field(min_length=1, max_length=2000)]


class Body(BaseModel):
    """A request body: a field it does not declare is refused."""

    model_config = ConfigDict(extra="forbid")


class Dated(Body):
    business_date: date | None = Field(
        default=None, description="Business date (default: ?on=, else today in Asia/Shanghai)."
    )


class ApplyBody(Dated):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "product": "cash-easy",
                    "name": "张三",
                    "id_number": "110101199005170012",
                    "phone": "13812345678",
                    "monthly_income": "8000.00",
                    "amount": "10000.00",
                    "term": 6,
                    "consents": ["all"],
                    "business_date": "2026-01-05",
                }
            ]
        },
    )
    product: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    id_number: Annotated[str, Field(min_length=1, max_length=64)]
    phone: Annotated[str, Field(min_length=1, max_length=64)]
    monthly_income: Yuan
    amount: Yuan
    term: Annotated[int, Field(ge=1, le=MAX_REPAYMENTS)]
    purpose: Code | None = None
    monthly_debt: Yuan | None = None
    employment: Code | None = None
    referrer: Code | None = None
    consents: list[Code] = Field(
        default_factory=list,
        max_length=8,
        description="Consents the applicant gave: credit_check, personal_information,"
        " sensitive_personal_information, credit_reporting, or all.",
    )


class NoteBody(Dated):
    note: Note | None = None


class ApproveBody(NoteBody):
    amount: Yuan | None = Field(default=None, description="Default: as requested.")


class RejectBody(NoteBody):
    reason: Annotated[str, Field(min_length=1, max_length=64, examples=["DTI_TOO_HIGH"])]


class PrepaymentBody(Dated):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"amount": "4000.00", "business_date": "2026-02-12"}]},
    )
    amount: Yuan = Field(description="Principal returned early, in yuan.")


class RepaymentBody(Dated):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"amount": "1750.00", "business_date": "2026-02-05", "reference": "ICBC-0205-17"}
            ]
        },
    )
    amount: Yuan
    reference: (
        Annotated[
            str,
            Field(
                pattern=rf"^{bounds.REFERENCE.pattern}$",
                description="The payer's own reference (a bank serial number), kept with the"
                " payment and shown with its transaction.",
            ),
        ]
        | None
    ) = None
    value_date: date | None = Field(
        default=None,
        description="The day the money arrived, instead of business_date: on a day already"
        " closed for the loan the payment is backdated and the loan reprocessed.",
    )


class CalcScheduleBody(Body):
    """The calculator's inputs, as `lendflow calc schedule` takes them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "principal": "10000.00",
                    "annual_rate": "18",
                    "repayments": 12,
                    "disbursed": "2026-01-05",
                }
            ]
        },
    )
    principal: Yuan
    annual_rate: Annotated[
        str,
        Field(pattern=r"^[0-9]{1,4}(\.[0-9]{1,6})?$", description='Percent a year, e.g. "18".'),
    ]
    repayments: Annotated[int, Field(ge=1, le=MAX_REPAYMENTS)]
    disbursed: date
    every: Annotated[int, Field(ge=1, le=366)] = 1
    frequency: Literal["days", "weeks", "months"] = "months"
    amortization: Literal["equal_instalments", "equal_principal"] | None = Field(
        default=None, description="Default equal_instalments; a method sets it."
    )
    interest: Literal["declining", "flat"] | None = Field(
        default=None, description="Default declining; a method sets it."
    )
    interest_period: Literal["same_as_repayment", "daily"] = "same_as_repayment"
    days_in_year: Literal["actual", "360", "364", "365"] = "360"
    days_in_month: Literal["actual", "30"] = "actual"
    principal_grace: Annotated[int, Field(ge=0, le=MAX_REPAYMENTS)] | None = Field(
        default=None, description="Periods without principal."
    )
    interest_grace: Annotated[int, Field(ge=0, le=MAX_REPAYMENTS)] = Field(
        default=0, description="Periods whose interest is deferred."
    )
    instalment_multiple: Yuan | None = Field(
        default=None, description="Round instalments to multiples of this many yuan."
    )
    method: Literal["annuity", "equal_principal", "interest_only", "bullet"] | None = None
    first_repayment: date | None = None
    upfront_fee: Yuan = "0"
    rounding: Literal["HALF_UP", "HALF_EVEN"] = Field(
        default="HALF_UP", description="How a fraction of a fen is settled (a product's rounding)."
    )
    leap_years: Literal["split", "fixed_365"] = Field(
        default="split",
        description='With days_in_year "actual": a leap year\'s day is 1/366 (split) or 1/365.',
    )
    multiple_rounding: Literal["nearest", "up"] = Field(
        default="nearest", description="Instalment to the instalment_multiple: nearest, or up."
    )
    non_working_due: Literal["move", "keep_with_grace", "ignore"] = Field(
        default="ignore",
        description="A due date on a public holiday or weekend: moved to the next working"
        " day, kept with grace until then, or counted as it falls.",
    )


MAX_LIMIT = 200
MAX_OFFSET = bounds.MAX_ID


Reason = Annotated[str, Field(min_length=1, max_length=200, description="Why, for the record.")]


class WaiverBody(Dated):
    """Ask to waive penalty or fees the borrower owes (`lendflow loan waive`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"component": "penalty", "amount": "20.00", "reason": "hardship"}]
        },
    )
    component: Literal["penalty", "fees"]
    amount: Yuan
    reason: Reason


class AccelerationBody(Dated):
    """Ask to declare the whole loan due (`lendflow loan accelerate`)."""

    reason: Reason = "declared due after the product's days past due"


class RestructureBody(Dated):
    """Ask for a new schedule for what the loan owes (`lendflow loan restructure`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"term": 12, "reason": "repayment plan agreed"}]},
    )
    term: int = Field(ge=1, le=MAX_REPAYMENTS)
    annual_rate: (
        Annotated[
            str,
            Field(
                pattern=r"^[0-9]{1,3}(\.[0-9]{1,4})?$",
                description="Nominal annual rate in percent (default: the loan's).",
            ),
        ]
        | None
    ) = None
    reason: Reason = "repayment plan agreed with the borrower"


class DeclineBody(Dated):
    """Decline a loan action someone else asked for (`lendflow loan decline-request`)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "hardship not shown"}]}
    )
    reason: Reason


class RefundBody(Dated):
    """Pay the credit balance back; the `Idempotency-Key` is the refund's reference."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": "50.00"}]})
    amount: Yuan


class CollectionContactBody(Body):
    """A contact with a borrower about money owed (`lendflow collection log`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"channel": "call", "outcome": "promised_to_pay", "at": "2026-03-02T10:30"}
            ]
        },
    )
    channel: Literal["call", "sms", "letter", "visit"]
    outcome: str = Field(min_length=1, max_length=32)
    at: str = Field(
        min_length=16,
        max_length=19,
        description="Local time in Asia/Shanghai, without a zone: 2026-03-02T10:30.",
    )
    recipient: Literal["borrower", "relative", "employer", "other"] = "borrower"
