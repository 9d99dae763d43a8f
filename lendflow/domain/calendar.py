"""Calendar arithmetic for schedules: periods, due dates and day counts.

Due dates are computed from one anchor (the first repayment date) by adding
whole periods to it, never by stepping from the previous due date, so that a
month-end anchor does not drift (31 Jan, 28 Feb, 31 Mar rather than 28 Mar).
"""

from __future__ import annotations

import calendar as _stdcal
import re
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from lendflow.domain.errors import BadInput

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Frequency(StrEnum):
    """Unit of a repayment period."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


class DaysInYear(StrEnum):
    """Year basis for turning an annual rate into a daily one."""

    ACTUAL = "actual"
    D360 = "360"
    D364 = "364"
    D365 = "365"


class DaysInMonth(StrEnum):
    """How days of a period are counted: as they fall, or 30 to every month."""

    ACTUAL = "actual"
    D30 = "30"


class MonthEndRule(StrEnum):
    """What a monthly due date does when the anchor day does not exist in a month.

    `same_day` keeps the anchor's day and clamps it to the month's last day
    (31 Jan -> 28 Feb -> 31 Mar). `month_end` also keeps every due date on the
    last day of the month when the anchor is a month end (30 Apr -> 31 May).
    """

    SAME_DAY = "same_day"
    MONTH_END = "month_end"


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def last_day_of_month(year: int, month: int) -> int:
    if month == 2 and _stdcal.isleap(year):
        return 29
    return _MONTH_DAYS[month - 1]


def is_month_end(day: date) -> bool:
    return day.day == last_day_of_month(day.year, day.month)


def add_months(day: date, months: int, rule: MonthEndRule = MonthEndRule.SAME_DAY) -> date:
    """Add calendar months, clamping to the month's length."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = last_day_of_month(year, month)
    if rule is MonthEndRule.MONTH_END and is_month_end(day):
        return date(year, month, last)
    return date(year, month, min(day.day, last))


def add_periods(
    day: date,
    periods: int,
    every: int,
    frequency: Frequency,
    rule: MonthEndRule = MonthEndRule.SAME_DAY,
) -> date:
    """The date `periods` repayment periods of `every` units after `day`."""
    if frequency is Frequency.DAYS:
        return day + timedelta(days=periods * every)
    if frequency is Frequency.WEEKS:
        return day + timedelta(weeks=periods * every)
    return add_months(day, periods * every, rule)


def due_dates(
    first_due: date,
    count: int,
    every: int,
    frequency: Frequency,
    rule: MonthEndRule = MonthEndRule.SAME_DAY,
) -> list[date]:
    """`count` due dates, each a whole number of periods after the first."""
    return [add_periods(first_due, i, every, frequency, rule) for i in range(count)]


def periods_per_year(every: int, frequency: Frequency) -> Fraction:
    """How many repayment periods make a year, for annualising a periodic rate.

    Months and weeks are calendar conventions (12 and 52 a year); days count
    against 365, so a 7-day period is 365/7 periods a year.
    """
    if every <= 0:
        raise BadInput(f"repayment period must be at least 1, got {every}")
    if frequency is Frequency.MONTHS:
        return Fraction(12, every)
    if frequency is Frequency.WEEKS:
        return Fraction(52, every)
    return Fraction(365, every)


def days_30(start: date, end: date) -> int:
    """Days between two dates counting every month as 30 days (30E/360)."""
    d1 = min(start.day, 30)
    d2 = min(end.day, 30)
    return (end.year - start.year) * 360 + (end.month - start.month) * 30 + (d2 - d1)


def day_count(start: date, end: date, days_in_month: DaysInMonth) -> int:
    """Days of interest between two dates under the month convention."""
    if days_in_month is DaysInMonth.D30:
        return days_30(start, end)
    return (end - start).days


def year_length(year: int, days_in_year: DaysInYear) -> int:
    """Days in a year under the year basis; `actual` knows leap years."""
    if days_in_year is DaysInYear.ACTUAL:
        return 366 if _stdcal.isleap(year) else 365
    return int(days_in_year.value)


def year_fraction(
    start: date,
    end: date,
    days_in_year: DaysInYear,
    days_in_month: DaysInMonth = DaysInMonth.ACTUAL,
    *,
    split_years: bool = True,
) -> Fraction:
    """The exact fraction of a year from `start` to `end` for daily interest.

    With an `actual` year and `split_years`, days in a leap year count 1/366 and
    other days 1/365 (the ISDA actual/actual convention); without splitting, every
    day of the period counts against the length of the year the period starts in.
    """
    if end < start:
        raise BadInput(f"period ends {end} before it starts {start}")
    if days_in_year is not DaysInYear.ACTUAL or days_in_month is DaysInMonth.D30:
        basis = year_length(start.year, days_in_year)
        return Fraction(day_count(start, end, days_in_month), basis)
    if not split_years:
        return Fraction((end - start).days, year_length(start.year, days_in_year))
    total = Fraction(0)
    cursor = start
    while cursor < end:
        boundary = min(end, date(cursor.year + 1, 1, 1))
        total += Fraction((boundary - cursor).days, year_length(cursor.year, days_in_year))
        cursor = boundary
    return total


def parse_date(text: str, *, field: str = "date") -> date:
    """Parse an ISO date (YYYY-MM-DD) with a one-line error naming the field."""
    raw = str(text).strip()
    try:
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{field} is not a date: {text!r} (use YYYY-MM-DD)") from None
