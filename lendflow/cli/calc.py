"""`lendflow calc`: the schedule and APR calculator for pricing and quoting."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import typer

from lendflow.cli.common import parse_date, parse_money
from lendflow.domain.bounds import AmountKind
from lendflow.domain.calendar import DaysInMonth, DaysInYear, Frequency
from lendflow.domain.money import Rounding
from lendflow.domain.schedule import LeapYears, MultipleRounding

app = typer.Typer(
    help="Price a product or quote a customer: schedules and APR.", no_args_is_help=True
)


class AmortizationOption(StrEnum):
    EQUAL_INSTALMENTS = "equal-instalments"
    EQUAL_PRINCIPAL = "equal-principal"


class InterestOption(StrEnum):
    DECLINING = "declining"
    FLAT = "flat"


class InterestPeriodOption(StrEnum):
    SAME_AS_REPAYMENT = "same-as-repayment"
    DAILY = "daily"


class NonWorkingDueOption(StrEnum):
    MOVE = "move"
    KEEP_WITH_GRACE = "keep-with-grace"
    IGNORE = "ignore"


class MethodOption(StrEnum):
    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal-principal"
    INTEREST_ONLY = "interest-only"
    BULLET = "bullet"


def _enum(value: StrEnum, target: type[StrEnum]) -> StrEnum:
    """A hyphenated option value as the domain's underscored enum."""
    return target(value.value.replace("-", "_"))


@app.command("schedule")
def schedule(
    principal: Annotated[
        int,
        typer.Option(
            help="Amount lent, in yuan (e.g. 10000 or 10000.50).",
            parser=parse_money("--principal", AmountKind.LOAN),
        ),
    ],
    annual_rate: Annotated[str, typer.Option(help="Nominal annual rate in percent (e.g. 18).")],
    repayments: Annotated[int, typer.Option(help="Number of instalments.")],
    disbursed: Annotated[
        date,
        typer.Option(
            help="Disbursement date, YYYY-MM-DD.", parser=parse_date("--disbursed"), metavar="DATE"
        ),
    ],
    every: Annotated[
        int, typer.Option(help="Length of a repayment period, in units.", min=1, max=366)
    ] = 1,
    frequency: Annotated[Frequency, typer.Option(help="Unit of a repayment period.")] = (
        Frequency.MONTHS
    ),
    amortization: Annotated[
        AmortizationOption | None, typer.Option(help="Default equal-instalments.")
    ] = None,
    interest: Annotated[InterestOption | None, typer.Option(help="Default declining.")] = None,
    interest_period: Annotated[
        InterestPeriodOption, typer.Option(help="Interest per period, or per actual day.")
    ] = InterestPeriodOption.SAME_AS_REPAYMENT,
    days_in_year: Annotated[DaysInYear, typer.Option(help="Year basis for daily interest.")] = (
        DaysInYear.D360
    ),
    days_in_month: Annotated[DaysInMonth, typer.Option(help="Month basis for daily interest.")] = (
        DaysInMonth.ACTUAL
    ),
    principal_grace: Annotated[int | None, typer.Option(help="Periods without principal.")] = None,
    interest_grace: Annotated[int, typer.Option(help="Periods whose interest is deferred.")] = 0,
    instalment_multiple: Annotated[
        int | None,
        typer.Option(
            help="Round instalments to multiples of this many yuan.",
            parser=parse_money("--instalment-multiple", AmountKind.FEE),
        ),
    ] = None,
    first_repayment: Annotated[
        date | None,
        typer.Option(
            help="First due date, YYYY-MM-DD (default one period on).",
            parser=parse_date("--first-repayment"),
            metavar="DATE",
        ),
    ] = None,
    upfront_fee: Annotated[
        int,
        typer.Option(
            help="Fee paid at disbursement, in yuan.",
            parser=parse_money("--upfront-fee", AmountKind.FEE, allow_zero=True),
        ),
    ] = 0,
    method: Annotated[
        MethodOption | None,
        typer.Option(
            help="Preset: annuity 等额本息, equal-principal 等额本金, "
            "interest-only 先息后本, bullet 一次性还本付息."
        ),
    ] = None,
    rounding: Annotated[
        Rounding, typer.Option(help="How a fraction of a fen is settled (a product's rounding).")
    ] = Rounding.HALF_UP,
    leap_years: Annotated[
        LeapYears,
        typer.Option(
            help="With --days-in-year actual: a leap year's day is 1/366 (split) or 1/365"
            " (fixed_365)."
        ),
    ] = LeapYears.SPLIT,
    multiple_rounding: Annotated[
        MultipleRounding,
        typer.Option(help="Instalment to the --instalment-multiple: nearest, or always up."),
    ] = MultipleRounding.NEAREST,
    non_working_due: Annotated[
        NonWorkingDueOption,
        typer.Option(
            help="A due date on a public holiday or weekend: move it to the next working day,"
            " keep it with grace until then, or ignore the calendar (the workspace's"
            " calendar.yaml extends China's public holidays)."
        ),
    ] = NonWorkingDueOption.IGNORE,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a repayment schedule with totals and the APR: per repayment period (IRR
    compound and simple) and over the actual dates (XIRR, 365-day year)."""
    from lendflow.cli.output import print_json
    from lendflow.cli.tables import print_schedule
    from lendflow.domain.business_days import NonWorkingDue
    from lendflow.domain.money import parse_decimal
    from lendflow.domain.schedule import Amortization, InterestMethod, InterestPeriod, Method
    from lendflow.loans.calculator import CalcOptions, Spelling, calculate
    from lendflow.loans.presenters import schedule_view

    options = CalcOptions(
        principal=principal,
        annual_rate=parse_decimal(annual_rate, field="--annual-rate"),
        repayments=repayments,
        disbursed=disbursed,
        every=every,
        frequency=frequency,
        amortization=Amortization(_enum(amortization, Amortization)) if amortization else None,
        interest=InterestMethod(_enum(interest, InterestMethod)) if interest else None,
        interest_period=InterestPeriod(_enum(interest_period, InterestPeriod)),
        days_in_year=days_in_year,
        days_in_month=days_in_month,
        principal_grace=principal_grace,
        interest_grace=interest_grace,
        instalment_multiple=instalment_multiple,
        first_repayment=first_repayment,
        upfront_fee=upfront_fee,
        method=Method(_enum(method, Method)) if method else None,
        rounding=rounding,
        leap_years=leap_years,
        multiple_rounding=multiple_rounding,
        non_working_due=NonWorkingDue(_enum(non_working_due, NonWorkingDue)),
    )
    calendar = None
    if options.non_working_due is not NonWorkingDue.IGNORE:
        from lendflow.config.business_calendar import load_calendar
        from lendflow.config.settings import load_settings

        calendar = load_calendar(load_settings().home)
    dates, apr = calculate(options, Spelling(prefix="--", separator="-"), calendar)
    if json_output:
        print_json(schedule_view(dates.schedule, apr, dates))
        return
    print_schedule(dates.schedule, apr, dates)
