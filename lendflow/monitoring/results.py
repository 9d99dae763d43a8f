"""What monitoring's use cases return: a product's indicators, and service tickets.

Money is integer fen (`Fen`, "40000.00" in JSON), ratios `Decimal` ("0.0500" in JSON,
the four places they are computed to), dates `date`; the JSON is what
`lendflow kpi show --json` and `lendflow ticket ... --json` have always printed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from lendflow.workspace.results import Fen, Result


class PortfolioKpis(Result):
    """The headline indicators on one date (domain.kpis.portfolio) and the month's complaints."""

    applications: int
    decided: int
    approved: int
    approval_rate: Decimal
    disbursed_count: int
    disbursed_amount: Fen
    active_loans: int
    outstanding: Fen
    par1: Decimal
    par30: Decimal
    par90: Decimal
    non_performing_ratio: Decimal
    written_off_count: int
    written_off_amount: Fen
    buckets: dict[str, int]
    """Loans per delinquency bucket (closed and written-off loans in buckets of their own)."""
    classes: dict[str, int]
    """Live loans per five-category class."""
    complaints_this_month: int
    complaints_per_thousand: Decimal
    """Complaints this month per thousand active loans."""


class KpiAlert(Result):
    """A threshold of the product spec's monitoring section that a figure crosses."""

    kpi: str
    value: Decimal
    threshold: Decimal
    message: str


class MonthEnd(Result):
    """The book at one month end (the last point is the as-of date itself)."""

    month_end: date
    outstanding: Fen
    disbursed_amount: Fen
    active_loans: int
    par30: Decimal
    non_performing_ratio: Decimal


class RollRate(Result):
    """From each bucket at one month end, how many loans stand in each bucket at the next."""

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    matrix: dict[str, dict[str, int]]


class ProductKpis(Result):
    """A product's (or one version's) indicators as of a business date, with month-end
    series, roll rates, vintages and alerts."""

    product: str
    version: int
    as_of: date
    kpis: PortfolioKpis
    alerts: tuple[KpiAlert, ...]
    series: tuple[MonthEnd, ...]
    roll_rates: tuple[RollRate, ...]
    vintages: dict[str, tuple[Decimal, ...]]
    """Per disbursement month ("2026-01"): the share of its principal ever more than 30
    days past due, by months on book."""


class Ticket(Result):
    """A complaint or question as seen on a business date, with its deadline."""

    id: int
    kind: Literal["complaint", "question"]
    state: Literal["open", "resolved"]
    product: str | None
    customer_id: int | None
    loan_id: int | None
    channel: str
    subject: str
    details: str | None
    """What the customer said; "(withheld)" from a role that may not read it."""
    opened_on: date
    due_on: date
    resolved_on: date | None
    resolution: str | None
    breached: bool
    """Resolved after its deadline, or still open past it."""
    days_open: int
