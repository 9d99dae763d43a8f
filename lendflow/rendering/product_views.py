"""View models from a product spec and the policy: pure, so a specimen and a
loan's own document are built the same way and tests need no database.

Schedules and APRs come from the domain's generator, the same call disbursement
makes, so the schedule a contract prints is the one the loan is booked with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lendflow.config.policy import Policy
from lendflow.config.product_spec import ProductSpec, costliest_loan
from lendflow.domain.apr import apr_of_schedule
from lendflow.domain.business_days import BusinessCalendar, move_schedule
from lendflow.domain.calendar import DaysInYear
from lendflow.domain.schedule import generate
from lendflow.rendering.views import (
    AprView,
    BrochureView,
    CollectionView,
    ContractView,
    FeeView,
    InstalmentView,
    LenderView,
    PartyView,
    PenaltyView,
    ProductView,
    RiskDisclosureView,
    ScheduleView,
)


@dataclass(frozen=True)
class LoanTerms:
    """The terms a loan was disbursed on: what its contract's schedule is rebuilt from."""

    loan_id: int
    principal: int
    term: int
    annual_rate: Decimal
    disbursed_on: date
    purpose: str


EXAMPLE_AMOUNT = 1_000_000  # fen: the example loan is 10,000 yuan where the range allows
# A fixed ordinary date for the product's APR range: an APR must not depend on today.
APR_ANCHOR = date(2025, 1, 15)
_DAILY_PLACES = Decimal("0.0001")
NO_HOLIDAYS = BusinessCalendar.weekends_only()
"""Without the workspace's calendar (a document drawn outside a workspace) dates move off
weekends only: every document a workspace issues passes its calendar."""


def schedule_view(
    spec: ProductSpec,
    principal: int,
    term: int,
    disbursed: date,
    annual_rate: Decimal | None = None,
    calendar: BusinessCalendar | None = None,
) -> ScheduleView:
    """The schedule of a loan of the product, exactly as disbursement generates it (due
    dates moved to working days under `move`, by `calendar`: the workspace's)."""
    terms = spec.schedule_terms(principal, term, disbursed, annual_rate=annual_rate)
    schedule = move_schedule(
        generate(terms), spec.schedule.non_working_due, calendar or NO_HOLIDAYS
    ).schedule
    apr = apr_of_schedule(schedule)
    rows = tuple(
        InstalmentView(i.n, i.due_date, i.principal, i.interest, i.fee, i.total, i.balance)
        for i in schedule.instalments
    )
    return ScheduleView(
        principal=principal,
        term=term,
        annual_rate=terms.annual_rate,
        method=spec.repayment.method.value,
        disbursed=disbursed,
        instalments=rows,
        upfront_fee=terms.upfront_fee,
        total_interest=schedule.total_interest,
        total_fees=schedule.total_fees,
        total_repayable=schedule.total_repayable,
        total_cost=schedule.total_interest + schedule.total_fees,
        net_disbursed=schedule.net_disbursed,
        apr=AprView(compound=apr.compound, simple=apr.simple, actual_dates=apr.actual_dates),
    )


def fee_views(spec: ProductSpec, principal: int, locale: str) -> tuple[FeeView, ...]:
    return tuple(
        FeeView(
            code=fee.code,
            name=fee.name.en if locale == "en" else fee.name.zh_CN,
            when=fee.when,
            basis=fee.basis,
            value=fee.value,
            amount=fee.amount(principal),
        )
        for fee in spec.fees
    )


def penalty_view(spec: ProductSpec, policy: Policy) -> PenaltyView | None:
    """The product's penalty terms, or None when the product declares none."""
    penalty = spec.penalty
    if penalty is None:
        return None
    days = 365 if penalty.days_in_year is DaysInYear.ACTUAL else int(penalty.days_in_year.value)
    return PenaltyView(
        annual_rate=penalty.annual_rate,
        daily_rate=(penalty.annual_rate / days).quantize(_DAILY_PLACES),
        base=penalty.base,
        days_in_year=days,
        cap=policy.overdue_charges_cap,
        grace_days=spec.delinquency.grace_days,
        all_in_cap=policy.charges_cap.limit,
        all_in_days=policy.charges_cap.days_in_year,
        all_in_base=policy.charges_cap.base,
    )


def collection_view(policy: Policy) -> CollectionView:
    return CollectionView(policy.collection_hours.start, policy.collection_hours.end)


def example_loan(spec: ProductSpec) -> tuple[int, int]:
    """The example a brochure shows: 10,000 yuan (within the range) over a middle term."""
    step = spec.amount.step
    amount = min(max(EXAMPLE_AMOUNT, spec.amount.min), spec.amount.max)
    amount = max(spec.amount.min, amount - (amount - spec.amount.min) % step)
    return amount, spec.terms[(len(spec.terms) - 1) // 2]


def lowest_apr(spec: ProductSpec) -> Decimal:
    """The lowest APR (compound) of any loan: the bottom of the rate band, fees included,
    on whichever basis is lower (per repayment period or over actual dates), as
    `costliest_loan` takes the higher, so that every loan's figures lie in the range."""
    return min(
        apr_of_schedule(
            generate(spec.schedule_terms(amount, term, APR_ANCHOR, annual_rate=spec.rate.lowest))
        ).lowest
        for term in spec.terms
        for amount in (spec.amount.min, spec.amount.max)
    )


_APR_RANGES: dict[int, tuple[ProductSpec, tuple[Decimal, Decimal]]] = {}


def apr_range(spec: ProductSpec) -> tuple[Decimal, Decimal]:
    """Lowest and highest APR of the product, priced once per spec object: every
    contract of a product version quotes the same range, and pricing every term
    costs more than rendering the contract."""
    found = _APR_RANGES.get(id(spec))
    if found is None or found[0] is not spec:
        found = _APR_RANGES[id(spec)] = (spec, (lowest_apr(spec), costliest_loan(spec)[0]))
    return found[1]


_EXAMPLES: dict[
    tuple[int, int, date], tuple[ProductSpec, BusinessCalendar | None, ScheduleView]
] = {}
_MOST_EXAMPLES = 64


def _example(
    spec: ProductSpec, amount: int, term: int, on: date, calendar: BusinessCalendar | None
) -> ScheduleView:
    """The product's example loan paid out `on`, priced once per spec, calendar and date:
    every contract a product signs in a day shows the same example, and pricing its APR
    cost a tenth of issuing the contract."""
    key = (id(spec), id(calendar), on)
    found = _EXAMPLES.get(key)
    if found is None or found[0] is not spec or found[1] is not calendar:
        if len(_EXAMPLES) >= _MOST_EXAMPLES:
            _EXAMPLES.clear()
        view = schedule_view(spec, amount, term, on, calendar=calendar)
        found = _EXAMPLES[key] = (spec, calendar, view)
    return found[2]


def product_view(
    spec: ProductSpec,
    policy: Policy,
    *,
    locale: str,
    version: int,
    example_on: date,
    calendar: BusinessCalendar | None = None,
) -> ProductView:
    """The product as its documents show it; the example loan is paid out on `example_on`."""
    amount, term = example_loan(spec)
    return ProductView(
        code=spec.code,
        version=version,
        name=spec.name.en if locale == "en" else spec.name.zh_CN,
        kind=spec.kind,
        currency=spec.currency,
        purposes=tuple(spec.purposes),
        amount_min=spec.amount.min,
        amount_max=spec.amount.max,
        amount_step=spec.amount.step,
        terms=tuple(spec.terms),
        every=spec.repayment.every,
        frequency=spec.repayment.frequency.value,
        method=spec.repayment.method.value,
        rate_annual=spec.rate.annual,
        rate_min=spec.rate.lowest,
        rate_max=spec.rate.highest,
        apr_lowest=apr_range(spec)[0],
        apr_highest=apr_range(spec)[1],
        fees=fee_views(spec, amount, locale),
        penalty=penalty_view(spec, policy),
        grace_days=spec.delinquency.grace_days,
        write_off_dpd=spec.delinquency.write_off_dpd,
        age_min=spec.age.min,
        age_max=spec.age.max,
        approval_validity_days=spec.approval_validity_days,
        allocation=tuple(spec.allocation),
        example=_example(spec, amount, term, example_on, calendar),
        non_working_due=spec.schedule.non_working_due.value,
    )


def contract_number(loan_id: int) -> str:
    return f"LF-C-{loan_id:08d}"


def specimen_number(spec: ProductSpec, version: int) -> str:
    return f"{spec.code}-v{version}-specimen"


def brochure_view(
    spec: ProductSpec,
    policy: Policy,
    lender: LenderView,
    *,
    locale: str,
    version: int,
    as_of: date,
    calendar: BusinessCalendar | None = None,
) -> BrochureView:
    product = product_view(
        spec, policy, locale=locale, version=version, example_on=as_of, calendar=calendar
    )
    return BrochureView(product=product, lender=lender, as_of=as_of, apr_cap=policy.apr_cap.limit)


def risk_disclosure_view(
    spec: ProductSpec,
    policy: Policy,
    lender: LenderView,
    *,
    locale: str,
    version: int,
    as_of: date,
    calendar: BusinessCalendar | None = None,
) -> RiskDisclosureView:
    product = product_view(
        spec, policy, locale=locale, version=version, example_on=as_of, calendar=calendar
    )
    return RiskDisclosureView(
        product=product, lender=lender, as_of=as_of, collection=collection_view(policy)
    )


def contract_view(
    spec: ProductSpec,
    policy: Policy,
    lender: LenderView,
    *,
    locale: str,
    version: int,
    signed_on: date,
    loan: LoanTerms | None = None,
    borrower: PartyView | None = None,
    waived_interest: tuple[tuple[int, int], ...] = (),
    calendar: BusinessCalendar | None = None,
) -> ContractView:
    """A loan's contract, or the product's specimen (its example loan) when `loan` is None."""
    product = product_view(
        spec, policy, locale=locale, version=version, example_on=signed_on, calendar=calendar
    )
    if loan is None:
        schedule = product.example
        purpose = spec.purposes[0]
        number, loan_id = specimen_number(spec, version), None
    else:
        schedule = schedule_view(
            spec,
            loan.principal,
            loan.term,
            loan.disbursed_on,
            annual_rate=loan.annual_rate,
            calendar=calendar,
        )
        purpose = loan.purpose or spec.purposes[0]
        number, loan_id = contract_number(loan.loan_id), loan.loan_id
    return ContractView(
        number=number,
        loan_id=loan_id,
        product=product,
        lender=lender,
        borrower=borrower,
        purpose=purpose,
        signed_on=signed_on,
        schedule=schedule,
        fees=fee_views(spec, schedule.principal, locale),
        penalty=product.penalty,
        collection=collection_view(policy),
        waived_interest=waived_interest,
        waived_total=sum(amount for _, amount in waived_interest),
    )
