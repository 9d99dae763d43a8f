"""The schedule and APR calculator, as `lendflow calc schedule` and `POST /calc/schedule`
take it: one set of options, one rule for a preset that contradicts them, one answer.

Both entry points call `calculate`, so the API cannot answer other figures than the
command prints; only the spelling of an option in a refusal differs (`--method` on
the command line, `method` in a request body).

The product conventions a spec sets under `schedule:` (`config.product_spec.ScheduleSettings`)
are options here under the same names, so a quote can be priced exactly as a product's
loans are: `rounding` (HALF_UP, HALF_EVEN), `leap_years` (split, fixed_365: how an
`actual` year counts a leap year's days) and `multiple_rounding` (nearest, up: how an
instalment is rounded to the instalment multiple); each default is the spec's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lendflow.domain.apr import Apr, apr_of_schedule
from lendflow.domain.bounds import check_schedule_length
from lendflow.domain.business_days import (
    BusinessCalendar,
    MovedSchedule,
    NonWorkingDue,
    move_schedule,
)
from lendflow.domain.calendar import DaysInMonth, DaysInYear, Frequency
from lendflow.domain.errors import BadInput
from lendflow.domain.money import Rounding
from lendflow.domain.schedule import (
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


@dataclass(frozen=True)
class CalcOptions:
    """What a person may set on the calculator; amounts in fen, the rate in percent."""

    principal: int
    annual_rate: Decimal
    repayments: int
    disbursed: date
    every: int = 1
    frequency: Frequency = Frequency.MONTHS
    amortization: Amortization | None = None
    """Default equal instalments; a `method` sets it."""
    interest: InterestMethod | None = None
    """Default declining; a `method` sets it."""
    interest_period: InterestPeriod = InterestPeriod.SAME_AS_REPAYMENT
    days_in_year: DaysInYear = DaysInYear.D360
    days_in_month: DaysInMonth = DaysInMonth.ACTUAL
    principal_grace: int | None = None
    interest_grace: int = 0
    instalment_multiple: int | None = None
    first_repayment: date | None = None
    upfront_fee: int = 0
    method: Method | None = None
    rounding: Rounding = Rounding.HALF_UP
    leap_years: LeapYears = LeapYears.SPLIT
    multiple_rounding: MultipleRounding = MultipleRounding.NEAREST
    non_working_due: NonWorkingDue = NonWorkingDue.IGNORE
    """A due date on a public holiday or weekend: moved, kept with grace, or as it falls."""


@dataclass(frozen=True)
class Spelling:
    """How the caller's users write an option and a value: `principal_grace` and
    `equal_principal` in a request body (the default), `--principal-grace` and
    `equal-principal` on the command line."""

    prefix: str = ""
    separator: str = "_"

    def option(self, name: str) -> str:
        return self.prefix + self.value(name)

    def value(self, name: str) -> str:
        return name.replace("_", self.separator)


def calculate(
    options: CalcOptions,
    spelling: Spelling = Spelling(),
    calendar: BusinessCalendar | None = None,
) -> tuple[MovedSchedule, Apr]:
    """The schedule under the rule for non-working due dates, and its APR
    (`loans.presenters.schedule_view` is the JSON both entry points answer with); a
    refusal names options as `spelling` writes them. `calendar` is needed only when the
    rule is not `ignore`."""
    terms = ScheduleTerms(
        principal=options.principal,
        annual_rate=options.annual_rate,
        repayments=options.repayments,
        disbursed=options.disbursed,
        every=options.every,
        frequency=options.frequency,
        amortization=options.amortization or Amortization.EQUAL_INSTALMENTS,
        interest=options.interest or InterestMethod.DECLINING,
        interest_period=options.interest_period,
        days_in_year=options.days_in_year,
        days_in_month=options.days_in_month,
        principal_grace=options.principal_grace or 0,
        interest_grace=options.interest_grace,
        instalment_multiple=options.instalment_multiple,
        first_repayment=options.first_repayment,
        upfront_fee=options.upfront_fee,
        rounding=options.rounding,
        leap_years=options.leap_years,
        multiple_rounding=options.multiple_rounding,
    )
    if options.method is not None:
        _refuse_conflicts(options, spelling)
        terms = apply_method(terms, options.method)
    terms.check()
    check_schedule_length(terms.repayments, terms.every, terms.frequency)
    result = generate(terms)
    if options.non_working_due is NonWorkingDue.IGNORE:
        return MovedSchedule(result, NonWorkingDue.IGNORE, ()), apr_of_schedule(result)
    if calendar is None:
        raise BadInput(f"{spelling.option('non_working_due')} needs a business-day calendar")
    moved = move_schedule(result, options.non_working_due, calendar)
    # over the actual dates, money changes hands on the moved days
    return moved, apr_of_schedule(moved.schedule)


def _refuse_conflicts(options: CalcOptions, spelling: Spelling) -> None:
    """A preset decides amortization and interest; refuse an option that contradicts it."""
    method = options.method
    assert method is not None
    option = spelling.option
    shown = f"{option('method')} {spelling.value(method.value)}"
    if options.amortization is not None or options.interest is not None:
        raise BadInput(
            f"{shown} sets amortization and interest; drop {option('amortization')}"
            f"/{option('interest')}"
        )
    if method in (Method.INTEREST_ONLY, Method.BULLET) and options.principal_grace:
        raise BadInput(f"{shown} sets the principal grace; drop {option('principal_grace')}")
    if method is Method.BULLET and options.interest_grace:
        raise BadInput(f"{shown} pays everything at maturity; drop {option('interest_grace')}")
