"""Working days: which dates a borrower can pay on, and what a due date on any other does.

A due date on a public holiday makes a borrower who pays on the next working day late
unless the product says what such a date means. The calendar is built from explicit
sets (the public holidays, the weekend days worked instead, and the years those lists
are complete for); the config layer fills it from the `chinese_calendar` package and the
lender's own `calendar.yaml`. Nothing here reads a file or a clock.

Two moments ask the calendar, and they treat a year it does not know differently:

- **Writing a schedule** (`move_schedule`): due dates run up to two years ahead, and
  the State Council publishes a year's holidays only weeks before it starts. A loan
  signed in March cannot wait for next year's calendar, so a date in a year nobody's
  calendar covers moves off weekends only, and the years assumed that way are handed
  back for the caller to record.
- **Judging lateness** (`grace_dues`, on a business date that has come): the lender
  knows this year's holidays by then, and a silent "working day" would charge a
  borrower penalty for a holiday. A year the calendar does not know is refused with one
  line naming the year and the file to extend (`CalendarNotKnown`), unless the lender's
  file chose `unknown_years: weekends_only`, which the caller then counts.

Whatever the schedule assumed, judging grants the grace: a stored due date that turns out
to be a non-working day (a holiday announced after the contract) is not late until the
next working day has passed, under `move` as under `keep_with_grace`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from lendflow.domain.errors import Refused
from lendflow.domain.schedule import Schedule

DAY = timedelta(days=1)
LONGEST_BREAK = 31
"""No run of non-working days is longer than this (the longest, Spring Festival with its
weekends, is about 10): a calendar that says otherwise is refused as a mistake."""


class NonWorkingDue(StrEnum):
    """What a product does with a due date that falls on a non-working day.

    `move`: the due date is the next working day (the amount stays as scheduled).
    `keep_with_grace`: the date stays, but a payment up to the next working day is on
    time; days past due and penalty count from that next working day.
    `ignore`: the date stays and counts as it falls (lendflow before business days).
    """

    MOVE = "move"
    KEEP_WITH_GRACE = "keep_with_grace"
    IGNORE = "ignore"


class UnknownYears(StrEnum):
    """What judging lateness does on a date in a year the calendar does not cover."""

    REFUSE = "refuse"
    WEEKENDS_ONLY = "weekends_only"


class CalendarNotKnown(Refused):
    """A date the business-day calendar has no holidays for, where a guess would decide
    whether a borrower is late."""


def weekend(day: date) -> bool:
    return day.weekday() >= 5


@dataclass(frozen=True)
class BusinessCalendar:
    """Public holidays and adjusted working days for the years in `known_years`.

    A date is a working day when it is listed in `working_days` (a weekend day worked in
    exchange for a holiday), not when it is listed in `holidays`, and otherwise when it
    is Monday to Friday. `unknown_years` says what judging does outside `known_years`.
    """

    holidays: frozenset[date]
    working_days: frozenset[date]
    known_years: frozenset[int]
    unknown_years: UnknownYears = UnknownYears.REFUSE
    source: str = "the business-day calendar"
    _next: dict[date, date] = field(default_factory=dict, compare=False, repr=False)
    _grace: dict[date, frozenset[date]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        both = self.holidays & self.working_days
        if both:
            first = min(both)
            raise Refused(f"{self.source}: {first} is listed both as a holiday and a working day")

    @classmethod
    def weekends_only(cls) -> BusinessCalendar:
        """A calendar that knows no year: every judgement falls back to Monday to Friday."""
        return cls(frozenset(), frozenset(), frozenset(), UnknownYears.WEEKENDS_ONLY)

    def knows(self, day: date) -> bool:
        return day.year in self.known_years

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day; a year not known is refused or, if the lender
        chose so, judged by weekends alone."""
        if day.year not in self.known_years:
            if self.unknown_years is UnknownYears.REFUSE:
                raise CalendarNotKnown(self.not_known(day.year))
            return not weekend(day)
        return self._working_known(day)

    def _working_known(self, day: date) -> bool:
        if day in self.working_days:
            return True
        return day not in self.holidays and not weekend(day)

    def _working_or_weekday(self, day: date) -> bool:
        """Known years as listed; any other by weekends alone (a schedule's look ahead)."""
        if day.year in self.known_years:
            return self._working_known(day)
        return not weekend(day)

    def not_known(self, year: int) -> str:
        known = sorted(self.known_years)
        covered = f"it knows {known[0]}–{known[-1]}" if known else "it knows no year"
        return (
            f"{self.source} does not know the public holidays of {year}"
            f" ({covered}): list {year}'s holidays and working days in calendar.yaml in the"
            f" workspace, with {year} under years"
        )

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        found = self._next.get(day)
        if found is None:
            cursor = day
            for _ in range(LONGEST_BREAK + 1):
                if self.is_working_day(cursor):
                    break
                cursor += DAY
            else:
                raise Refused(self._too_long(day))
            found = self._next[day] = cursor
        return found

    def moved(self, day: date) -> tuple[date, frozenset[int]]:
        """A due date moved to a working day, and the years judged by weekends alone."""
        assumed: set[int] = set()
        cursor = day
        for _ in range(LONGEST_BREAK + 1):
            if cursor.year not in self.known_years:
                assumed.add(cursor.year)
            if self._working_or_weekday(cursor):
                return cursor, frozenset(assumed)
            cursor += DAY
        raise Refused(self._too_long(day))

    def _too_long(self, day: date) -> str:
        return f"{self.source}: no working day within {LONGEST_BREAK} days of {day}"

    def grace_dues(self, d: date) -> frozenset[date]:
        """The due dates before `d` still within their grace when `d` is closed.

        A due date on a non-working day is late only once the next working day has
        passed: closing `d`, that is every date of the run of non-working days just
        before it (their next working day is `d` or later). Empty when the day before
        `d` is a working day, which it is on most days. One walk per business date, so
        close of business checks each loan's instalments against a set, never the
        calendar.
        """
        found = self._grace.get(d)
        if found is not None:
            return found
        dues: set[date] = set()
        cursor = d - DAY
        for _ in range(LONGEST_BREAK + 1):
            if self.is_working_day(cursor):
                found = self._grace[d] = frozenset(dues)
                return found
            dues.add(cursor)
            cursor -= DAY
        raise Refused(self._too_long(cursor))


@dataclass(frozen=True)
class MovedSchedule:
    """A schedule under the product's rule for non-working due dates.

    `on_time_until` is, per instalment, the last day a payment of it is on time: its due
    date, or under `keep_with_grace` the next working day when it falls on another.
    `assumed_years` are the years whose holidays were not known when it was written
    (judged by weekends alone), for the caller to record.
    """

    schedule: Schedule
    rule: NonWorkingDue = NonWorkingDue.IGNORE
    on_time_until: tuple[date, ...] = ()
    assumed_years: tuple[int, ...] = ()


def move_schedule(
    schedule: Schedule, rule: NonWorkingDue, calendar: BusinessCalendar
) -> MovedSchedule:
    """The schedule under the product's rule: under `move` each due date falling on a
    non-working day becomes the next working day; the amounts stay as scheduled.

    Interest is not recounted for the days a date moves: the instalment the contract
    states is what is due on the moved date, so a holiday costs the borrower nothing
    (Fineract's "move to next working day" recounts a daily-interest period to the
    moved date; lendflow does not). Under `keep_with_grace` the dates stay and each
    instalment is on time until the next working day; under `ignore` nothing changes
    and the calendar is not asked.
    """
    dues = [row.due_date for row in schedule.instalments]
    if rule is NonWorkingDue.IGNORE:
        return MovedSchedule(schedule, rule, tuple(dues))
    assumed: set[int] = set()
    until: list[date] = []
    for due in dues:
        working, years = calendar.moved(due)
        assumed |= years
        until.append(working)
    if rule is NonWorkingDue.MOVE:
        rows = tuple(
            row._replace(due_date=day) if day != row.due_date else row
            for row, day in zip(schedule.instalments, until, strict=True)
        )
        schedule = Schedule(
            schedule.terms,
            rows,
            schedule.total_principal,
            schedule.total_interest,
            schedule.total_fees,
        )
    return MovedSchedule(schedule, rule, tuple(until), tuple(sorted(assumed)))


def dates_in_grace(dues: Iterable[date]) -> frozenset[date | str]:
    """A grace set that also matches due dates as SQLite's driver returns them (ISO text),
    so close of business tests each row it read without converting it."""
    found: set[date | str] = set()
    for due in dues:
        found.add(due)
        found.add(due.isoformat())
    return frozenset(found)
