"""Stage 5's inputs: the channels CSV and the campaigns YAML, every problem by file and line.

The channels CSV has one row per acquisition channel: `channel` (a code), `name`,
`cost_per_acquisition` (yuan per prospect acquired, zero for the lender's own
channels), `expected_conversion` (percent of prospects who apply), `capacity`
(the most prospects it can bring in the launch period) and one `fit_<segment>`
column per customer segment (percent of the channel's applicants in it, at most
100 together). The campaigns YAML gives the channel budget and the campaigns,
each with a budget and an end date.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from lendflow.config.fields import Fen
from lendflow.config.policy import Strict
from lendflow.config.product_spec import Names
from lendflow.domain.channels import Channel
from lendflow.domain.errors import BadInput
from lendflow.domain.money import format_fen, parse_amount
from lendflow.domain.promotions import MAX_FREE_DAYS
from lendflow.lifecycle.inputs import (
    CapturedInput,
    cell_text,
    rate_cell,
    read_rows,
    read_yaml_model,
    whole_number,
)

CHANNEL_COLUMNS = ("channel", "name", "cost_per_acquisition", "expected_conversion", "capacity")
FIT_PREFIX = "fit_"
_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def _fit_columns(source: CapturedInput) -> tuple[str, ...]:
    """The header's `fit_<segment>` columns; a channels file needs at least one."""
    if not source.text.strip():
        raise BadInput(f"{source.file}: the file is empty")
    header = [h.strip() for h in next(csv.reader(io.StringIO(source.text)), [])]
    fits = tuple(h for h in header if h.startswith(FIT_PREFIX))
    bad = [h for h in fits if not _CODE.match(h.removeprefix(FIT_PREFIX))]
    if bad:
        raise BadInput(f"{source.file}: line 1: {bad[0]} does not name a segment code")
    if not fits:
        raise BadInput(
            f"{source.file}: line 1: no fit_<segment> column (e.g. fit_new_citizens: percent"
            " of the channel's applicants in that segment)"
        )
    return fits


def read_channels(source: CapturedInput) -> list[Channel]:
    """Every channel row, or every bad row as `file: line N: problem`."""
    fits = _fit_columns(source)
    seen: dict[str, int] = {}

    def parse(line: int, raw: dict[str, str]) -> Channel:
        code = cell_text(raw["channel"], "channel")
        if not _CODE.match(code):
            raise BadInput(f"channel must be a code like app_store, got {code!r}")
        if code in seen:
            raise BadInput(f"channel {code} repeats line {seen[code]}")
        seen[code] = line
        cost = raw["cost_per_acquisition"]
        if cost.startswith("-"):
            raise BadInput(f"cost_per_acquisition cannot be negative, got {cost}")
        conversion = rate_cell(raw["expected_conversion"], "expected_conversion", Decimal(100))
        if conversion == 0:
            raise BadInput("expected_conversion must be more than zero")
        fit = {
            column.removeprefix(FIT_PREFIX): rate_cell(raw[column] or "0", column, Decimal(100))
            for column in fits
        }
        total = sum(fit.values(), Decimal(0))
        if total > 100:
            raise BadInput(f"the fit columns add up to {total}%, more than 100%")
        return Channel(
            code=code,
            name=cell_text(raw["name"], "name"),
            cost_per_acquisition=parse_amount(cost, field="cost_per_acquisition", allow_zero=True),
            conversion=conversion,
            capacity=whole_number(raw["capacity"], "capacity", 1, 10**9),
            fit=fit,
        )

    return read_rows(source, (*CHANNEL_COLUMNS, *fits), parse)


CampaignKind = Literal["first_loan_interest_free", "referral"]
CAMPAIGN_KINDS: tuple[str, ...] = ("first_loan_interest_free", "referral")


class CampaignInput(Strict):
    """One campaign: a promotion rule with its budget and its dates (the end is required)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")
    kind: CampaignKind
    name: Names
    budget: Fen
    starts_on: date | None = None
    ends_on: date
    free_days: int | None = Field(default=None, ge=1, le=MAX_FREE_DAYS)
    reward: Fen | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CampaignInput:
        if self.budget <= 0:
            raise ValueError("budget must be more than zero")
        if self.starts_on is not None and self.ends_on < self.starts_on:
            raise ValueError(f"ends_on {self.ends_on} is before starts_on {self.starts_on}")
        if self.kind == "first_loan_interest_free":
            if self.free_days is None:
                raise ValueError("a first-loan interest-free campaign needs free_days")
            if self.reward is not None:
                raise ValueError("reward is for referral campaigns")
        else:
            if not self.reward:
                raise ValueError("a referral campaign needs a reward more than zero")
            if self.free_days is not None:
                raise ValueError("free_days is for first-loan interest-free campaigns")
            if self.reward > self.budget:
                raise ValueError(
                    f"the reward {format_fen(self.reward)} is more than the budget"
                    f" {format_fen(self.budget)}"
                )
        return self


class LaunchCampaigns(Strict):
    """Stage 5's campaigns input: what acquisition may cost, and the campaigns to run."""

    channel_budget: Fen
    campaigns: list[CampaignInput] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> LaunchCampaigns:
        if self.channel_budget <= 0:
            raise ValueError("channel_budget must be more than zero")
        codes = [c.code for c in self.campaigns]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"campaign codes must be unique; repeated: {', '.join(repeated)}")
        return self


def read_campaigns(source: CapturedInput) -> LaunchCampaigns:
    return read_yaml_model(LaunchCampaigns, source)
