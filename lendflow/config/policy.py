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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AprCap(Strict):
    """The most a loan may cost a year, fees included (PBOC APR).

    Either a fixed percent, or a multiple of the one-year Loan Prime Rate as
    published on a date (the LPR changes; the policy names the value it uses).
    """

    kind: Literal["fixed", "lpr_multiple"] = "fixed"
    percent: Percent | None = Decimal(24)
    multiple: Decimal | None = None
    lpr: Percent | None = None
    lpr_date: date | None = None

    @model_validator(mode="after")
    def _complete(self) -> AprCap:
        if self.kind == "fixed" and self.percent is None:
            raise ValueError("a fixed APR cap needs percent")
        if self.kind == "lpr_multiple" and (
            self.multiple is None or self.lpr is None or self.lpr_date is None
        ):
            raise ValueError("an LPR-multiple APR cap needs multiple, lpr and lpr_date")
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


class CollectionHours(Strict):
    start: str = "08:00"
    end: str = "21:00"


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


class Policy(Strict):
    """The lender's regulatory limits."""

    apr_cap: AprCap = Field(default_factory=AprCap)
    single_borrower_cap: Fen = 20_000_000
    no_upfront_deduction: bool = True
    overdue_charges_cap: Percent = Field(
        default=Decimal(24),
        description="penalty interest and overdue fees together, percent a year of the overdue",
    )
    collection_hours: CollectionHours = Field(default_factory=CollectionHours)
    product_gates: ProductGates = Field(default_factory=ProductGates)
    affordability: Affordability = Field(default_factory=Affordability)
    service_levels: ServiceLevels = Field(default_factory=ServiceLevels)
    business_dates: BusinessDates = Field(default_factory=BusinessDates)
    max_overpayment: Fen = Field(
        default=1_000_000,
        description="most a repayment may pay beyond settling the loan, kept as the borrower's"
        " credit; more is refused (returned to the payer, never booked)",
    )


def default_policy_path() -> Path:
    return Path(str(resources.files("lendflow.config").joinpath("policy.yaml")))


@cache
def _load(path: Path) -> Policy:
    return load_model(Policy, path)


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the packaged default."""
    return _load((path or default_policy_path()).resolve())
