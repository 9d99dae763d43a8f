"""The product spec: everything a loan product promises, as a validated model.

A spec file is what a product manager writes and the design stage produces;
loans are made under one version of it and keep its terms for life.
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from lendflow.config.fields import Fen, Percent
from lendflow.config.loading import load_model, parse_model
from lendflow.config.policy import Policy, Strict, borrower_cap
from lendflow.domain.apr import apr_of_schedule
from lendflow.domain.business_days import NonWorkingDue
from lendflow.domain.calendar import DaysInMonth, DaysInYear, Frequency, MonthEndRule, add_months
from lendflow.domain.classification import Restructure, UpgradeRule
from lendflow.domain.errors import BadInput
from lendflow.domain.money import Rounding, div_round, format_fen
from lendflow.domain.recalculation import PrepaymentMethod
from lendflow.domain.schedule import (
    METHOD_NAMES_ZH,
    Amortization,
    InterestMethod,
    InterestPeriod,
    LeapYears,
    Method,
    MultipleRounding,
    ScheduleTerms,
    apply_method,
    generate,
)

ALLOCATION_PARTS = ("penalty", "fee", "interest", "principal")


class Names(Strict):
    """A display text in both locales."""

    zh_CN: str = Field(alias="zh-CN", min_length=1)
    en: str = Field(min_length=1)


class AmountRange(Strict):
    min: Fen
    max: Fen
    step: Fen = 100

    @model_validator(mode="after")
    def _ordered(self) -> AmountRange:
        if self.min <= 0:
            raise ValueError("min must be more than zero")
        if self.max < self.min:
            raise ValueError(f"max {format_fen(self.max)} is below min {format_fen(self.min)}")
        if self.step <= 0:
            raise ValueError("step must be more than zero")
        return self


class RateBand(Strict):
    """Nominal annual rate: the standard rate and the band risk-based pricing may use."""

    annual: Percent
    min: Percent | None = None
    max: Percent | None = None
    by_grade: dict[str, Percent] = Field(
        default_factory=dict, description="risk-based price of each risk grade"
    )

    @model_validator(mode="after")
    def _within(self) -> RateBand:
        low = self.min if self.min is not None else self.annual
        high = self.max if self.max is not None else self.annual
        if not low <= self.annual <= high:
            raise ValueError(f"annual rate {self.annual}% must lie within [{low}%, {high}%]")
        for grade, rate in self.by_grade.items():
            if not low <= rate <= high:
                raise ValueError(
                    f"by_grade.{grade}: {rate}% lies outside the band [{low}%, {high}%]"
                )
        return self

    @property
    def lowest(self) -> Decimal:
        return self.min if self.min is not None else self.annual

    @property
    def highest(self) -> Decimal:
        return self.max if self.max is not None else self.annual


class Repayment(Strict):
    every: int = Field(default=1, ge=1)
    frequency: Frequency = Frequency.MONTHS
    method: Method = Method.ANNUITY


class ScheduleSettings(Strict):
    """Schedule conventions; defaults are lendflow's, Fineract's are values of each."""

    interest_period: InterestPeriod = InterestPeriod.SAME_AS_REPAYMENT
    days_in_year: DaysInYear = DaysInYear.D360
    days_in_month: DaysInMonth = DaysInMonth.ACTUAL
    rounding: Rounding = Rounding.HALF_UP
    principal_grace: int = Field(default=0, ge=0)
    interest_grace: int = Field(default=0, ge=0)
    instalment_multiple: Fen | None = None
    month_end: MonthEndRule = MonthEndRule.SAME_DAY
    leap_years: LeapYears = LeapYears.SPLIT
    multiple_rounding: MultipleRounding = MultipleRounding.NEAREST
    non_working_due: NonWorkingDue = Field(
        default=NonWorkingDue.IGNORE,
        description="a due date on a public holiday or weekend: move, keep_with_grace, ignore",
    )


class Fee(Strict):
    """A fee: once at disbursement, or with every instalment; fixed or percent of principal."""

    code: str = Field(min_length=1, max_length=32)
    name: Names
    when: Literal["upfront", "per_instalment"]
    basis: Literal["fixed", "percent_of_principal"]
    value: Percent
    deducted_from_principal: bool = False

    def amount(self, principal: int) -> int:
        """The fee in fen on a loan of `principal` fen (percent fees round half up)."""
        if self.basis == "fixed":
            fen = self.value * 100
            if fen != fen.to_integral_value():
                raise BadInput(f"fee {self.code}: a fixed fee needs at most two decimals")
            return int(fen)
        ratio = self.value.as_integer_ratio()
        return div_round(principal * ratio[0], ratio[1] * 100)


class Penalty(Strict):
    """Penalty interest (罚息) on overdue amounts, per day at annual_rate / days_in_year."""

    annual_rate: Percent
    base: Literal["overdue_principal", "overdue_principal_and_interest"] = "overdue_principal"
    days_in_year: DaysInYear = DaysInYear.D360


class Bucket(Strict):
    name: str
    max_dpd: int | None = Field(default=None, ge=0, description="None: no upper bound")


class ClassLevel(Strict):
    code: str
    name: Names
    min_dpd: int = Field(ge=0)


DEFAULT_BUCKETS = [
    Bucket(name="M0", max_dpd=0),
    Bucket(name="M1", max_dpd=30),
    Bucket(name="M2", max_dpd=60),
    Bucket(name="M3", max_dpd=90),
    Bucket(name="M3+", max_dpd=None),
]

DEFAULT_CLASSES = [
    ClassLevel(
        code="normal", name=Names.model_validate({"zh-CN": "正常", "en": "Normal"}), min_dpd=0
    ),
    ClassLevel(
        code="special_mention",
        name=Names.model_validate({"zh-CN": "关注", "en": "Special mention"}),
        min_dpd=1,
    ),
    ClassLevel(
        code="substandard",
        name=Names.model_validate({"zh-CN": "次级", "en": "Substandard"}),
        min_dpd=91,
    ),
    ClassLevel(
        code="doubtful", name=Names.model_validate({"zh-CN": "可疑", "en": "Doubtful"}), min_dpd=271
    ),
    ClassLevel(
        code="loss", name=Names.model_validate({"zh-CN": "损失", "en": "Loss"}), min_dpd=361
    ),
]


class Upgrade(Strict):
    """What a non-performing loan must show before it moves up a class: its arrears paid,
    then `instalments` consecutive instalments repaid on time and `months` months, the
    longer of the two (the 2023 classification rules) or the first (`whichever: first`)."""

    held_from: str = "substandard"
    instalments: int = Field(default=2, ge=1)
    months: int = Field(default=6, ge=0)
    whichever: Literal["longer", "first"] = "longer"
    restructured_floor: str = "special_mention"
    """The best class a restructured loan may have through its observation period (one
    non-performing when restructured stays held at its class until the evidence is in)."""
    observation_months: int = Field(default=12, ge=0)

    def rule(self) -> UpgradeRule:
        return UpgradeRule(self.held_from, self.instalments, self.months, self.whichever)

    def restructure(self, restructured_on: date | None) -> Restructure | None:
        """The floor a loan restructured on `restructured_on` stands on, if any."""
        if restructured_on is None:
            return None
        until = add_months(restructured_on, self.observation_months)
        return Restructure(until, self.restructured_floor)


class Delinquency(Strict):
    """Days-past-due rules: grace, tolerance, buckets, classification, write-off."""

    grace_days: int = Field(default=0, ge=0)
    arrears_tolerance: Fen = 0
    buckets: list[Bucket] = Field(default_factory=lambda: list(DEFAULT_BUCKETS))
    classification: list[ClassLevel] = Field(default_factory=lambda: list(DEFAULT_CLASSES))
    upgrade: Upgrade = Field(default_factory=Upgrade)
    write_off_dpd: int = Field(default=360, ge=1)
    acceleration_dpd: int = Field(
        default=90,
        ge=1,
        description="days past due before the whole loan may be declared due (acceleration)",
    )

    @property
    def levels(self) -> list[tuple[str, int]]:
        """The classes as the domain's functions take them: (code, min_dpd)."""
        return [(level.code, level.min_dpd) for level in self.classification]

    @model_validator(mode="after")
    def _held_from_is_a_class(self) -> Delinquency:
        codes = [level.code for level in self.classification]
        for name in ("held_from", "restructured_floor"):
            if getattr(self.upgrade, name) not in codes:
                raise ValueError(
                    f"upgrade.{name}: {getattr(self.upgrade, name)} is not one of the classes"
                    f" ({', '.join(codes)})"
                )
        return self

    @field_validator("buckets")
    @classmethod
    def _buckets_ascend(cls, buckets: list[Bucket]) -> list[Bucket]:
        if not buckets or buckets[-1].max_dpd is not None:
            raise ValueError("the last bucket must have no max_dpd (it takes every later day)")
        bounds = [b.max_dpd for b in buckets[:-1]]
        if any(b is None for b in bounds) or bounds != sorted(set(bounds)):  # type: ignore[type-var]
            raise ValueError("bucket max_dpd values must strictly ascend")
        return buckets

    @field_validator("classification")
    @classmethod
    def _classes_ascend(cls, levels: list[ClassLevel]) -> list[ClassLevel]:
        if not levels or levels[0].min_dpd != 0:
            raise ValueError("the first class must start at min_dpd 0")
        bounds = [c.min_dpd for c in levels]
        if bounds != sorted(set(bounds)):
            raise ValueError("class min_dpd values must strictly ascend")
        return levels


class AlertThresholds(Strict):
    """Where a product's monitoring raises an alert (ratios in percent)."""

    par30_max: Percent = Decimal(5)
    non_performing_max: Percent = Decimal(3)
    approval_rate_min: Percent = Decimal(20)
    complaints_per_thousand_max: Percent = Field(
        default=Decimal(2), description="complaints in the month per 1,000 active loans"
    )


class Monitoring(Strict):
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)


class AgeLimits(Strict):
    min: int = Field(default=18, ge=18)
    max: int = Field(default=60, le=100)


class PricingAssumptions(Strict):
    """What lending under this product costs, percent a year of the balance.

    The design gate holds the product's cheapest loan against the floor these
    make: cost of funds + probability of default × loss given default + operating cost.
    """

    cost_of_funds: Percent
    probability_of_default: Percent = Field(description="percent of borrowers a year")
    loss_given_default: Percent = Field(description="percent of the exposure lost on default")
    operating_cost: Percent

    @model_validator(mode="after")
    def _proportions(self) -> PricingAssumptions:
        for name in ("probability_of_default", "loss_given_default"):
            if getattr(self, name) > 100:
                raise ValueError(f"{name} is a percent of at most 100")
        return self


class DocumentRefs(Strict):
    brochure: str = "brochure"
    contract: str = "contract"
    risk_disclosure: str = "risk_disclosure"


SERVICE_LEVEL_UNITS = {
    "hour": "hours",
    "hours": "hours",
    "business day": "business_days",
    "business days": "business_days",
    "day": "days",
    "days": "days",
}
_SERVICE_LEVEL = re.compile(r"(\d+)\s+(hours?|business[ _]days?|days?)")


class ServiceLevel(Strict):
    """How soon the lender promises a step is done: within N hours, business or calendar days.

    Written as text in a spec ("4 hours", "1 business day", "15 days"), because
    that is how the promise reads in a brochure.
    """

    count: int = Field(ge=1)
    unit: Literal["hours", "business_days", "days"]

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if not isinstance(data, str):
            return data
        match = _SERVICE_LEVEL.fullmatch(data.strip().lower())
        if match is None:
            raise ValueError(
                f'write a service level like "4 hours", "1 business day" or "15 days", got {data!r}'
            )
        unit = SERVICE_LEVEL_UNITS[match.group(2).replace("_", " ")]
        return {"count": int(match.group(1)), "unit": unit}

    def describe(self) -> str:
        unit = self.unit.replace("_", " ")
        return f"{self.count} {unit.removesuffix('s') if self.count == 1 else unit}"

    def calendar_days(self) -> int:
        """The most calendar days the promise can take, public holidays aside.

        A business day can fall on a Friday: every five of them may span a weekend.
        """
        if self.unit == "hours":
            return math.ceil(self.count / 24)
        if self.unit == "days":
            return self.count
        return self.count + 2 * math.ceil(self.count / 5)


class ProcessStep(Strict):
    """One step of the loan process and the service level promised for it, if any."""

    step: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    name: Names
    within: ServiceLevel | None = None


class LoanProcess(Strict):
    """How a customer gets and lives with the loan: the channels and the steps, in order."""

    channels: list[str] = Field(min_length=1, description="where customers apply")
    steps: list[ProcessStep] = Field(min_length=1)

    @field_validator("channels")
    @classmethod
    def _channels(cls, channels: list[str]) -> list[str]:
        for channel in channels:
            if not re.fullmatch(r"[a-z][a-z0-9_]{1,31}", channel):
                raise ValueError(f"channel {channel!r} must be a code like app or branch")
        if len(set(channels)) != len(channels):
            raise ValueError("channels must not repeat")
        return channels

    @field_validator("steps")
    @classmethod
    def _steps_unique(cls, steps: list[ProcessStep]) -> list[ProcessStep]:
        codes = [s.step for s in steps]
        if len(set(codes)) != len(codes):
            raise ValueError("steps must not repeat")
        return steps

    def find(self, code: str) -> ProcessStep | None:
        return next((s for s in self.steps if s.step == code), None)


class ProductSpec(Strict):
    """A loan product's terms as a product manager writes them."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: Names
    kind: Literal["consumer", "small_business"]
    currency: Literal["CNY"] = "CNY"
    purposes: list[str] = Field(default_factory=lambda: ["consumption"])
    amount: AmountRange
    terms: list[int] = Field(min_length=1, description="allowed numbers of repayments")
    repayment: Repayment = Field(default_factory=Repayment)
    rate: RateBand
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    fees: list[Fee] = Field(default_factory=list)
    penalty: Penalty | None = None
    delinquency: Delinquency = Field(default_factory=Delinquency)
    allocation: list[Literal["penalty", "fee", "interest", "principal"]] = Field(
        default_factory=lambda: list(ALLOCATION_PARTS)
    )
    approval_validity_days: int = Field(default=30, ge=1)
    age: AgeLimits = Field(default_factory=AgeLimits)
    scorecard: str | None = Field(default=None, description="champion scorecard code")
    decision_table: str | None = Field(default=None, description="credit policy table code")
    challenger: str | None = Field(default=None, description="scorecard scored in shadow")
    documents: DocumentRefs = Field(default_factory=DocumentRefs)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    pricing: PricingAssumptions | None = None
    process: LoanProcess | None = None
    prepayment: PrepaymentMethod = Field(
        default=PrepaymentMethod.NONE,
        description="a partial prepayment (loan prepay): reduce_instalment re-amortises the"
        " rest over the term left, reduce_term keeps the instalment and ends sooner, none"
        " takes none (money beyond what is due pays the next instalments in advance)",
    )

    @field_validator("terms")
    @classmethod
    def _terms_positive(cls, terms: list[int]) -> list[int]:
        if any(t < 1 for t in terms):
            raise ValueError("every term must be at least 1 repayment")
        if len(set(terms)) != len(terms):
            raise ValueError("terms must not repeat")
        return sorted(terms)

    @field_validator("allocation")
    @classmethod
    def _allocation_complete(cls, order: list[str]) -> list[str]:
        if sorted(order) != sorted(ALLOCATION_PARTS):
            raise ValueError(f"allocation must order each of {', '.join(ALLOCATION_PARTS)} once")
        return order

    @model_validator(mode="after")
    def _consistent(self) -> ProductSpec:
        longest = max(self.terms)
        grace = max(self.schedule.principal_grace, self.schedule.interest_grace)
        if grace >= min(self.terms):
            raise ValueError(f"grace of {grace} periods leaves nothing to repay in a short term")
        if self.repayment.method is Method.BULLET and longest > 1 and grace:
            raise ValueError("a bullet loan has no grace periods")
        codes = [f.code for f in self.fees]
        if len(set(codes)) != len(codes):
            raise ValueError("fee codes must be unique")
        if self.prepayment is not PrepaymentMethod.NONE:
            if self.repayment.method not in (Method.ANNUITY, Method.EQUAL_PRINCIPAL):
                raise ValueError(
                    f"prepayment {self.prepayment} recalculates annuity and equal_principal"
                    f" schedules only, not {self.repayment.method}"
                )
            if grace:
                raise ValueError(f"prepayment {self.prepayment} needs a schedule without grace")
        return self

    @property
    def method_name_zh(self) -> str:
        return METHOD_NAMES_ZH[self.repayment.method]

    def upfront_fee(self, principal: int) -> int:
        return sum(f.amount(principal) for f in self.fees if f.when == "upfront")

    def instalment_fee(self, principal: int) -> int:
        return sum(f.amount(principal) for f in self.fees if f.when == "per_instalment")

    def schedule_terms(
        self,
        principal: int,
        repayments: int,
        disbursed: date,
        annual_rate: Decimal | None = None,
        first_repayment: date | None = None,
    ) -> ScheduleTerms:
        """The schedule terms of a loan of `principal` fen over `repayments` periods."""
        s = self.schedule
        terms = ScheduleTerms(
            principal=principal,
            annual_rate=self.rate.annual if annual_rate is None else annual_rate,
            repayments=repayments,
            disbursed=disbursed,
            every=self.repayment.every,
            frequency=self.repayment.frequency,
            amortization=Amortization.EQUAL_INSTALMENTS,
            interest=InterestMethod.DECLINING,
            interest_period=s.interest_period,
            days_in_year=s.days_in_year,
            days_in_month=s.days_in_month,
            principal_grace=s.principal_grace,
            interest_grace=s.interest_grace,
            instalment_multiple=s.instalment_multiple,
            first_repayment=first_repayment,
            upfront_fee=self.upfront_fee(principal),
            fee_per_instalment=self.instalment_fee(principal),
            rounding=s.rounding,
            month_end=s.month_end,
            leap_years=s.leap_years,
            multiple_rounding=s.multiple_rounding,
        )
        return apply_method(terms, self.repayment.method)


def policy_problems(
    spec: ProductSpec,
    policy: Policy,
    source: str,
    costliest: tuple[Decimal, int, int] | None = None,
) -> list[str]:
    """Every way the product breaks the policy; the APR cap is checked on its costliest loan."""
    problems: list[str] = []
    if policy.no_upfront_deduction:
        for fee in spec.fees:
            if fee.deducted_from_principal:
                problems.append(
                    f"{source}: fees.{fee.code}: policy forbids deducting fees from the principal"
                )
    apr, amount, term = costliest or costliest_loan(spec)
    if apr > policy.apr_cap.limit:
        problems.append(
            f"{source}: rate: highest APR {apr.quantize(Decimal('0.01'))}% (amount"
            f" {format_fen(amount)}, {term} repayments, fees included) exceeds the policy cap"
            f" {policy.apr_cap.describe()}"
        )
    if spec.penalty is not None and spec.penalty.annual_rate > policy.overdue_charges_cap:
        problems.append(
            f"{source}: penalty.annual_rate: {spec.penalty.annual_rate}% exceeds the policy cap"
            f" on overdue charges {policy.overdue_charges_cap}%"
        )
    problems += _charges_cap_problems(spec, policy, source, apr)
    cap = borrower_cap(policy, spec.kind)
    if spec.amount.max > cap:
        problems.append(
            f"{source}: amount.max: {format_fen(spec.amount.max)} exceeds what one borrower may"
            f" owe for {spec.kind} loans, {format_fen(cap)} (policy concentration)"
        )
    return problems


def _charges_cap_problems(
    spec: ProductSpec, policy: Policy, source: str, apr: Decimal
) -> list[str]:
    """A product that could comply with the all-in charges cap only by being cut every day.

    Contract interest and fees are never cut, so a costliest APR above the cap is
    refused, whatever its base (named once: when the APR cap is the lower, its own
    problem says it). On the principal outstanding, once a loan has matured unpaid,
    penalty interest is all that still accrues, on at least the whole principal
    outstanding: a daily penalty rate above the cap's daily rate would be cut on every
    such day, whatever the loan paid before. On the overdue principal the penalty runs on
    at least the base itself, so such a rate would be cut on every overdue day.
    """
    cap = policy.charges_cap
    problems: list[str] = []
    if cap.limit < apr <= policy.apr_cap.limit:
        problems.append(
            f"{source}: rate: highest APR {apr.quantize(Decimal('0.01'))}% (fees included)"
            f" exceeds the all-in charges cap {cap.describe()}: contract charges are never cut"
        )
    if spec.penalty is not None:
        days = _PENALTY_YEAR_FLOOR[spec.penalty.days_in_year]
        if Fraction(spec.penalty.annual_rate) / days > Fraction(cap.limit) / cap.days_in_year:
            cut = (
                " of overdue principal: every overdue day"
                if cap.on_overdue
                else ": every overdue day after maturity"
            )
            problems.append(
                f"{source}: penalty.annual_rate: {spec.penalty.annual_rate}% over {days} days"
                f" exceeds the all-in charges cap {cap.describe()} over {cap.days_in_year}"
                f" days{cut} would be cut"
            )
    return problems


# The fewest days a penalty's year may have: its daily rate is highest then.
_PENALTY_YEAR_FLOOR = {
    DaysInYear.ACTUAL: 365,
    DaysInYear.D360: 360,
    DaysInYear.D364: 364,
    DaysInYear.D365: 365,
}


def costliest_loan(spec: ProductSpec, rate: Decimal | None = None) -> tuple[Decimal, int, int]:
    """The highest APR (compound, percent) any loan of the product can have at `rate`
    (default: the top of the band), and the amount (fen) and term that reach it.

    Each allowed term, both ends of the amount range (fixed fees weigh most on
    the smallest amount), on a fixed ordinary date: an APR must not depend on today.
    Each loan counts with `Apr.highest`, the higher of its IRR per repayment period and
    over actual dates: PBOC 〔2021〕第3号 annualises the IRR of what the borrower really
    pays on the days they pay it, and the contract prints both figures, so the APR cap
    (`product validate`, the design gate, credit review's pricing) holds for both.
    """
    anchor = date(2025, 1, 15)
    annual = spec.rate.highest if rate is None else rate
    return max(
        (
            apr_of_schedule(
                generate(spec.schedule_terms(amount, term, anchor, annual_rate=annual))
            ).highest,
            amount,
            term,
        )
        for term in spec.terms
        for amount in (spec.amount.min, spec.amount.max)
    )


def highest_apr(spec: ProductSpec) -> Decimal:
    """The highest APR (compound, percent, on either basis) any loan of this product can have."""
    return costliest_loan(spec)[0]


def parse_product(data: object, source: str) -> ProductSpec:
    return parse_model(ProductSpec, data, source)


def load_product(path: Path) -> ProductSpec:
    return load_model(ProductSpec, path)


def example_product_paths() -> list[Path]:
    folder = Path(str(resources.files("lendflow.config").joinpath("products")))
    return sorted(folder.glob("*.yaml"))
