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


def default_policy_path() -> Path:
    return Path(str(resources.files("lendflow.config").joinpath("policy.yaml")))


@cache
def _load(path: Path) -> Policy:
    return load_model(Policy, path)


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the packaged default."""
    return _load((path or default_policy_path()).resolve())
