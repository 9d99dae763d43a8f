"""Regulatory limits that every product and loan must respect (policy.yaml)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lendflow.config.fields import Fen, Percent
from lendflow.config.loading import load_model
from lendflow.domain.provisions import DEFAULT_RATES, ProvisionRates


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimit(Strict):
    """A limit in percent a year: a fixed percent, or a multiple of the one-year Loan
    Prime Rate as published on a date (the LPR changes; the policy names the value it
    uses)."""

    kind: Literal["fixed", "lpr_multiple"] = "fixed"
    percent: Percent | None = Decimal(24)
    multiple: Decimal | None = None
    lpr: Percent | None = None
    lpr_date: date | None = None

    @model_validator(mode="after")
    def _complete(self) -> RateLimit:
        if self.kind == "fixed" and self.percent is None:
            raise ValueError("a fixed cap needs percent")
        if self.kind == "lpr_multiple" and (
            self.multiple is None or self.lpr is None or self.lpr_date is None
        ):
            raise ValueError("an LPR-multiple cap needs multiple, lpr and lpr_date")
        return self

    @property
    def limit(self) -> Decimal:
        """The cap in percent a year."""
        if self.kind == "lpr_multiple":
            assert self.multiple is not None and self.lpr is not None
            return self.multiple * self.lpr
        assert self.percent is not None
        return self.percent

    def describe(self) -> str:
        if self.kind == "lpr_multiple":
            return f"{self.limit}% ({self.multiple} x one-year LPR {self.lpr}% of {self.lpr_date})"
        return f"{self.limit}%"


class AprCap(RateLimit):
    """The most a loan may cost a year, fees included (PBOC APR)."""


class ChargesCap(RateLimit):
    """The most a borrower may be charged in all, a year: contract interest, penalty
    interest, compound interest and fees together.

    Courts do not support what financial lenders charge beyond 24% a year in all
    (法释〔2020〕27号; the Supreme People's Court's 2017 opinion on financial
    disputes, art. 2). The limit accrues day by day on its `base` at each close of
    business, at `days_in_year` days to the year (日利率 = 年利率 ÷ 360,
    《人民币利率管理规定》 art. 24); close of business charges penalty interest only
    up to what the charges so far leave of it. Contract interest and fees are what the
    borrower signed for and are never cut: a product whose own charges pass the limit
    is refused (`policy_problems`).

    `base` is what the limit accrues on:

    - `principal_outstanding`: the principal outstanding at each close, and everything
      charged (contract interest and fees fallen due, penalty) counts against it;
    - `overdue_principal`, the stricter reading courts give what lateness costs
      (overdue interest, liquidated damages and other fees together, on what is overdue;
      法释〔2020〕27号): only the principal past due at each close, and only what lateness
      costs (penalty interest, with compound interest when the penalty runs on overdue
      interest too) counts against it. Contract interest and fees earned while the loan
      was performing are on no overdue base; the APR cap and the refusal of a product
      whose APR passes this limit hold them.
    """

    base: Literal["principal_outstanding", "overdue_principal"] = "principal_outstanding"
    days_in_year: Literal[360, 365] = 360

    @property
    def on_overdue(self) -> bool:
        """The stricter base: the overdue principal, and only the charges for lateness."""
        return self.base == "overdue_principal"

    def allowed(self, principal_days: int) -> int:
        """What the limit allows, in fen (rounded down), on `principal_days` fen-days."""
        num, den = self.limit.as_integer_ratio()
        return principal_days * num // (den * 100 * self.days_in_year)

    def base_days(self, principal_days: int, overdue_principal_days: int) -> int:
        """The fen-days the limit accrues on: of principal outstanding, or past due."""
        return overdue_principal_days if self.on_overdue else principal_days

    def weighed(self, penalty: int, contract: int) -> int:
        """What counts against the limit of everything charged so far: the penalty accrued
        and, on the principal outstanding, the contract interest and fees fallen due."""
        return penalty if self.on_overdue else penalty + contract


class CollectionHours(Strict):
    start: str = "08:00"
    end: str = "21:00"


class CollectionLimits(Strict):
    """How often collectors may contact a borrower: at most `per_day` contacts a day
    across every channel."""

    per_day: int = Field(default=3, ge=1, le=20)


class Affordability(Strict):
    """Most of a borrower's monthly income that all debt service may take, in percent."""

    max_dti: Percent = Decimal(50)
    by_product: dict[str, Percent] = Field(default_factory=dict)

    def limit_for(self, product_code: str) -> Decimal:
        return self.by_product.get(product_code, self.max_dti)


class ProductGates(Strict):
    """The evidence the gates of the product lifecycle ask a product's research for."""

    min_survey_responses: int = Field(default=200, ge=1)
    min_segment_responses: int = Field(
        default=30, ge=1, description="survey responses each target segment needs"
    )
    min_competitors: int = Field(default=5, ge=1)
    min_market_months: int = Field(
        default=24, ge=3, description="months of market history (two years give growth)"
    )
    competitor_apr_percentile: int = Field(
        default=75, ge=1, le=100, description="a new product's standard APR stays at or under it"
    )


class ServiceLevels(Strict):
    """Calendar days to resolve a customer's ticket (complaints: 15 by regulation)."""

    complaint: int = Field(default=15, ge=1)
    question: int = Field(default=3, ge=1)


class BusinessDates(Strict):
    """How far a business date may run ahead of the real date, in days.

    Money is dated on a loan's open business date; this bounds every date a
    person or a file can give (apply, approve, disburse, repay, payoff, files,
    close of business), so a mistyped year can never recognise a whole schedule.
    A day of slack lets a bank file cut in another time zone through.
    """

    horizon_days: int = Field(default=1, ge=0, le=7)


ProductKind = Literal["consumer", "small_business"]


class Exclusions(Strict):
    """Who may not borrow, whatever their score: employments refused for a product kind
    (online consumer loans to college students are not allowed), and the oldest an
    applicant may be when the loan matures."""

    employment_by_kind: dict[ProductKind, tuple[str, ...]] = Field(
        default_factory=lambda: {"consumer": ("student",)}
    )
    max_age_at_maturity: int = Field(default=65, ge=18, le=100)


class Concentration(Strict):
    """How much one borrower, or a group of related parties, may owe the lender.

    The 2024 rules for microloan companies cap one borrower's balance at 10% of the
    company's net assets and a borrower with their related parties at 15%; online loans
    also have ceilings per borrower by kind (consumer ¥200,000). Without a net-asset
    figure the fixed `single_borrower_cap` of older policies is the share's stand-in.
    """

    net_assets: Fen | None = None
    net_assets_on: date | None = None
    single_borrower_percent: Percent = Decimal(10)
    related_parties_percent: Percent = Decimal(15)
    ceilings: dict[ProductKind, Fen] = Field(
        default_factory=lambda: {"consumer": 20_000_000, "small_business": 1_000_000_000}
    )

    @model_validator(mode="after")
    def _dated(self) -> Concentration:
        if (self.net_assets is None) != (self.net_assets_on is None):
            raise ValueError("net_assets and net_assets_on go together: the figure and its date")
        return self

    def share(self, percent: Decimal) -> int | None:
        """`percent` of the net assets in fen (down to the fen), or None without them."""
        if self.net_assets is None:
            return None
        return int(self.net_assets * percent / 100)


class NonAccrual(Strict):
    """When a loan stops accruing interest and penalty to income.

    From `from_class` (on the product's ladder of classes) on, close of business reverses
    the interest and penalty accrued and not paid into suspense and accrues what follows
    to suspense, not income; cash received is income as it arrives (it releases the
    suspense), and a loan graded back above `from_class` accrues to income again. `hold`
    names where the suspended amounts are kept: `suspense`, contra-asset accounts against
    the receivables, so the borrower's debt stays on the loan as owed."""

    from_class: str = "substandard"
    hold: Literal["suspense"] = "suspense"


class Classification(Strict):
    """Lender-wide rules of the five-category class, beyond each product's own ladder.

    `borrower_worst_class`: every live loan of a borrower takes the worst class among that
    borrower's live loans, never a better one than its own evidence gives; close of
    business applies it each night. Off by default: the 2023 classification rules class
    a non-retail debtor's exposures together, and a lender may choose to do so for its
    retail borrowers too."""

    borrower_worst_class: bool = False


class Provisions(Strict):
    """Loan-loss provisions (贷款损失准备): percent of principal by five-category class, and
    an optional general percent on every live loan's principal. Close of business provides
    for each loan at every month end (`domain.provisions`)."""

    rates: dict[str, Percent] = Field(default_factory=lambda: dict(DEFAULT_RATES))
    general_percent: Percent = Decimal(0)

    @model_validator(mode="after")
    def _at_most_whole(self) -> Provisions:
        for code, rate in self.rates.items():
            if rate > 100:
                raise ValueError(f"rates: {code}: {rate}% is more than the whole principal")
        if self.general_percent > 100:
            raise ValueError("general_percent: more than the whole principal")
        return self

    def domain(self) -> ProvisionRates:
        return ProvisionRates(self.rates, self.general_percent)


class Policy(Strict):
    """The lender's regulatory limits."""

    apr_cap: AprCap = Field(default_factory=AprCap)
    charges_cap: ChargesCap = Field(default_factory=ChargesCap)
    single_borrower_cap: Fen = 20_000_000
    no_upfront_deduction: bool = True
    overdue_charges_cap: Percent = Field(
        default=Decimal(24),
        description="penalty interest and overdue fees together, percent a year of the overdue",
    )
    collection_hours: CollectionHours = Field(default_factory=CollectionHours)
    collection_limits: CollectionLimits = Field(default_factory=CollectionLimits)
    product_gates: ProductGates = Field(default_factory=ProductGates)
    affordability: Affordability = Field(default_factory=Affordability)
    service_levels: ServiceLevels = Field(default_factory=ServiceLevels)
    business_dates: BusinessDates = Field(default_factory=BusinessDates)
    exclusions: Exclusions = Field(default_factory=Exclusions)
    concentration: Concentration = Field(default_factory=Concentration)
    non_accrual: NonAccrual = Field(default_factory=NonAccrual)
    classification: Classification = Field(default_factory=Classification)
    max_overpayment: Fen = Field(
        default=1_000_000,
        description="most a repayment may pay beyond settling the loan, kept as the borrower's"
        " credit; more is refused (returned to the payer, never booked)",
    )
    provisions: Provisions = Field(default_factory=Provisions)


def borrower_cap(policy: Policy, kind: str) -> int:
    """The most one borrower may owe for a product of `kind`: the kind's ceiling and the
    net-asset share (or, without net assets, the fixed single-borrower cap), whichever
    is lower. A product lending more than this in one loan could never be taken up."""
    limits = policy.concentration
    share = limits.share(limits.single_borrower_percent)
    cap = share if share is not None else policy.single_borrower_cap
    ceiling = limits.ceilings.get(kind)  # type: ignore[call-overload]
    return min(cap, ceiling) if ceiling is not None else cap


def default_policy_path() -> Path:
    return Path(str(resources.files("lendflow.config").joinpath("policy.yaml")))


@cache
def _load(path: Path) -> Policy:
    return load_model(Policy, path)


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the packaged default."""
    return _load((path or default_policy_path()).resolve())
