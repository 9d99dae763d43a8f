"""View models: the plain values a document template is given.

Templates never see database rows or specs: only these frozen dataclasses of
integer fen, `Decimal` percent, dates and text, built by the use cases (which
decide what a reader may see) or from a product spec (`product_views`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class LenderView:
    """Who lends, and where borrowers apply, complain and go to law (lender.yaml)."""

    name: str
    address: str
    licence: str
    phone: str
    email: str
    website: str
    apply_channels: tuple[str, ...]
    complaints: str
    regulator: str
    dispute_resolution: str


@dataclass(frozen=True)
class AprView:
    """The annualised rate (PBOC 〔2021〕第3号) in percent, on each basis `domain.apr` names."""

    compound: Decimal  # IRR method per repayment period, 复利
    simple: Decimal  # 单利
    actual_dates: Decimal  # IRR over the actual dates of each payment (XIRR, 365-day year)


@dataclass(frozen=True)
class FeeView:
    code: str
    name: str
    when: str  # upfront | per_instalment
    basis: str  # fixed | percent_of_principal
    value: Decimal  # yuan when fixed, percent of principal otherwise
    amount: int  # fen on the loan (or the example loan) the document shows


@dataclass(frozen=True)
class PenaltyView:
    """Penalty interest (罚息), the cap on overdue charges and the all-in charges cap."""

    annual_rate: Decimal
    daily_rate: Decimal  # percent a day: annual_rate / days_in_year
    base: str  # overdue_principal | overdue_principal_and_interest
    days_in_year: int
    cap: Decimal  # policy: penalty and overdue fees together, percent a year
    grace_days: int
    all_in_cap: Decimal  # policy: everything charged together, percent a year
    all_in_days: int  # days to the year of the all-in cap
    all_in_base: str  # what it accrues on: principal_outstanding | overdue_principal


@dataclass(frozen=True)
class InstalmentView:
    n: int
    due_date: date
    principal: int
    interest: int
    fee: int
    total: int
    balance: int


@dataclass(frozen=True)
class ScheduleView:
    """A repayment schedule with the totals a borrower compares."""

    principal: int
    term: int
    annual_rate: Decimal
    method: str
    disbursed: date
    instalments: tuple[InstalmentView, ...]
    upfront_fee: int
    total_interest: int
    total_fees: int  # upfront and per instalment
    total_repayable: int  # every instalment (the upfront fee is paid at signing)
    total_cost: int  # interest and every fee
    net_disbursed: int
    apr: AprView

    @property
    def maturity(self) -> date:
        return self.instalments[-1].due_date


@dataclass(frozen=True)
class ProductView:
    code: str
    version: int
    name: str
    kind: str  # consumer | small_business
    currency: str
    purposes: tuple[str, ...]
    amount_min: int
    amount_max: int
    amount_step: int
    terms: tuple[int, ...]
    every: int
    frequency: str
    method: str
    rate_annual: Decimal
    rate_min: Decimal
    rate_max: Decimal
    apr_lowest: Decimal  # compound, the cheapest loan the product can make
    apr_highest: Decimal  # compound, the costliest loan
    fees: tuple[FeeView, ...]
    penalty: PenaltyView | None
    grace_days: int
    write_off_dpd: int
    age_min: int
    age_max: int
    approval_validity_days: int
    allocation: tuple[str, ...]
    example: ScheduleView
    non_working_due: str = "ignore"  # move | keep_with_grace | ignore (schedule.non_working_due)


@dataclass(frozen=True)
class PartyView:
    name: str
    national_id: str
    phone: str


@dataclass(frozen=True)
class CollectionView:
    hours_start: str
    hours_end: str


@dataclass(frozen=True)
class BrochureView:
    product: ProductView
    lender: LenderView
    as_of: date
    apr_cap: Decimal


@dataclass(frozen=True)
class RiskDisclosureView:
    product: ProductView
    lender: LenderView
    as_of: date
    collection: CollectionView


@dataclass(frozen=True)
class ContractView:
    """A loan contract; a specimen (范本) when there is no borrower yet."""

    number: str
    loan_id: int | None
    product: ProductView
    lender: LenderView
    borrower: PartyView | None
    purpose: str
    signed_on: date
    schedule: ScheduleView
    fees: tuple[FeeView, ...]
    penalty: PenaltyView | None
    collection: CollectionView
    waived_interest: tuple[tuple[int, int], ...] = ()
    """(instalment number, interest waived in fen) under a promotion such as 首单免息."""
    waived_total: int = 0


@dataclass(frozen=True)
class OverdueNoticeView:
    """A collection notice: what is overdue on the business date and what follows."""

    number: str
    loan_id: int
    contract_number: str
    product_name: str
    lender: LenderView
    borrower: PartyView
    as_of: date
    dpd: int
    overdue_since: date
    principal: int
    interest: int
    fees: int
    penalty: int
    total: int
    penalty_terms: PenaltyView | None
    collection: CollectionView


@dataclass(frozen=True)
class AccelerationNoticeView(OverdueNoticeView):
    """The notice that the whole loan is declared due (acceleration): what is owed on the
    date, why, and what the borrower may do (the same figures as an overdue notice, every
    instalment now due among them)."""


@dataclass(frozen=True)
class SupplementRowView:
    n: int
    due_date: date
    principal: int
    interest: int
    fee: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee


@dataclass(frozen=True)
class ContractSupplementView:
    """The contract supplement a partial prepayment issues: the principal returned, what
    the product's setting did to the rest of the schedule, and the new schedule."""

    number: str
    loan_id: int
    contract_number: str
    product_name: str
    lender: LenderView
    borrower: PartyView
    as_of: date
    version: int
    method: str
    amount: int
    principal_before: int
    principal_after: int
    instalment_before: int
    instalment_after: int
    interest_before: int
    interest_after: int
    interest_saved: int
    maturity_before: date
    maturity_after: date
    schedule: tuple[SupplementRowView, ...]
