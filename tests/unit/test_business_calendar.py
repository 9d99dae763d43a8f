"""Working days: China's 2026 holidays as the package lists them, the lender's calendar.yaml
over them, and what a due date on a non-working day becomes.

2026 by the State Council's notice: National Day 1–7 October (Thursday to Wednesday) off,
Sunday 20 September and Saturday 10 October worked. So a due date of Thursday 1 October
is paid on time on Thursday 8 October, and is late from Friday 9 October.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendflow.config.business_calendar import (
    CALENDAR_FILE_NAME,
    CalendarFile,
    load_calendar,
    package_calendar,
)
from lendflow.config.loading import parse_model, parse_yaml
from lendflow.domain.business_days import (
    BusinessCalendar,
    CalendarNotKnown,
    NonWorkingDue,
    UnknownYears,
    dates_in_grace,
    move_schedule,
)
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.schedule import ScheduleTerms, generate

NATIONAL_DAY = [date(2026, 10, d) for d in range(1, 8)]
SETTINGS = settings(max_examples=200, deadline=None)


@pytest.fixture(scope="module")
def china() -> BusinessCalendar:
    return package_calendar()


# --- the package's 2026 -------------------------------------------------------------------


def test_the_package_knows_2026_national_day_and_its_working_weekend_days(china) -> None:  # type: ignore[no-untyped-def]
    assert 2026 in china.known_years
    assert all(not china.is_working_day(d) for d in NATIONAL_DAY)
    assert china.is_working_day(date(2026, 9, 20))  # a Sunday worked
    assert china.is_working_day(date(2026, 10, 10))  # a Saturday worked
    assert china.is_working_day(date(2026, 10, 8))  # Thursday after the break
    assert not china.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert china.is_working_day(date(2026, 9, 30))  # an ordinary Wednesday


def test_a_holiday_due_date_is_paid_on_time_on_the_next_working_day(china) -> None:  # type: ignore[no-untyped-def]
    assert china.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    assert china.next_working_day(date(2026, 10, 7)) == date(2026, 10, 8)
    assert china.next_working_day(date(2026, 9, 30)) == date(2026, 9, 30)  # unaffected
    assert china.next_working_day(date(2026, 9, 19)) == date(2026, 9, 20)  # worked Sunday


def test_the_grace_on_a_business_date_is_the_run_of_days_off_just_before_it(china) -> None:  # type: ignore[no-untyped-def]
    # closing 8 October, the dues of 1–7 October are still on time; closing the 9th none is
    assert china.grace_dues(date(2026, 10, 8)) == frozenset(NATIONAL_DAY)
    assert china.grace_dues(date(2026, 10, 9)) == frozenset()
    assert china.grace_dues(date(2026, 10, 1)) == frozenset()  # 30 September was worked
    # Saturday 19 September's due is paid on time on Sunday the 20th, which is worked
    assert china.grace_dues(date(2026, 9, 20)) == {date(2026, 9, 19)}
    assert china.grace_dues(date(2026, 9, 21)) == frozenset()
    # Monday after an ordinary weekend
    assert china.grace_dues(date(2026, 6, 8)) == {date(2026, 6, 6), date(2026, 6, 7)}


def test_the_grace_set_matches_dates_as_sqlite_returns_them() -> None:
    grace = dates_in_grace([date(2026, 10, 1)])
    assert date(2026, 10, 1) in grace and "2026-10-01" in grace
    assert "2026-10-08" not in grace


# --- years nobody's calendar knows -----------------------------------------------------------


def test_judging_a_year_the_calendar_does_not_know_is_refused_in_one_line(china) -> None:  # type: ignore[no-untyped-def]
    year = max(china.known_years) + 1
    with pytest.raises(CalendarNotKnown) as refused:
        china.grace_dues(date(year, 1, 5))
    message = str(refused.value)
    assert f"does not know the public holidays of {year}" in message
    assert "calendar.yaml" in message and "\n" not in message
    assert isinstance(refused.value, Refused)


def test_weekends_only_is_the_lenders_choice_for_years_nobody_lists() -> None:
    calendar = BusinessCalendar(
        frozenset(), frozenset(), frozenset({2026}), UnknownYears.WEEKENDS_ONLY
    )
    assert calendar.grace_dues(date(2031, 1, 6)) == {date(2031, 1, 4), date(2031, 1, 5)}
    assert calendar.is_working_day(date(2031, 1, 1))  # a Wednesday: New Year not known


def test_a_schedule_looking_into_an_unknown_year_moves_off_weekends_and_says_so(china) -> None:  # type: ignore[no-untyped-def]
    year = max(china.known_years) + 1
    saturday = next(date(year, 3, d) for d in range(1, 8) if date(year, 3, d).weekday() == 5)
    moved, assumed = china.moved(saturday)
    assert moved == saturday + timedelta(days=2)
    assert assumed == {year}
    assert china.moved(date(2026, 10, 1)) == (date(2026, 10, 8), frozenset())


def test_a_date_listed_as_both_holiday_and_working_day_is_refused() -> None:
    day = date(2026, 10, 8)
    with pytest.raises(Refused, match="2026-10-08 is listed both"):
        BusinessCalendar(frozenset({day}), frozenset({day}), frozenset({2026}))


# --- a schedule under each rule --------------------------------------------------------------

# 10,000.00 at 15.60% over 3 months from Wednesday 1 July 2026 (cash-easy's rate): due
# Saturday 1 August, Tuesday 1 September, Thursday 1 October (National Day).
TERMS = ScheduleTerms(
    principal=1_000_000, annual_rate=Decimal("15.60"), repayments=3, disbursed=date(2026, 7, 1)
)
SCHEDULED = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
AMOUNTS = [(329_037, 13_000), (333_314, 8_723), (337_649, 4_389)]


def test_move_puts_each_due_date_on_a_working_day_and_keeps_the_amounts(china) -> None:  # type: ignore[no-untyped-def]
    plain = generate(TERMS)
    assert [i.due_date for i in plain.instalments] == SCHEDULED
    moved = move_schedule(plain, NonWorkingDue.MOVE, china)
    rows = moved.schedule.instalments
    assert [i.due_date for i in rows] == [date(2026, 8, 3), date(2026, 9, 1), date(2026, 10, 8)]
    assert [(i.principal, i.interest) for i in rows] == AMOUNTS
    assert moved.schedule.total_interest == plain.total_interest == 26_112
    assert moved.on_time_until == (date(2026, 8, 3), date(2026, 9, 1), date(2026, 10, 8))
    assert moved.assumed_years == ()


def test_keep_with_grace_keeps_the_dates_and_says_until_when_each_is_on_time(china) -> None:  # type: ignore[no-untyped-def]
    kept = move_schedule(generate(TERMS), NonWorkingDue.KEEP_WITH_GRACE, china)
    assert [i.due_date for i in kept.schedule.instalments] == SCHEDULED
    assert kept.on_time_until == (date(2026, 8, 3), date(2026, 9, 1), date(2026, 10, 8))


def test_ignore_never_asks_the_calendar() -> None:
    nothing_known = BusinessCalendar(frozenset(), frozenset(), frozenset())
    same = move_schedule(generate(TERMS), NonWorkingDue.IGNORE, nothing_known)
    assert [i.due_date for i in same.schedule.instalments] == SCHEDULED


# --- properties --------------------------------------------------------------------------

YEARS = (2024, 2025, 2026)
DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 20))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """Any calendar over 2024–2026: random holidays (no run longer than a fortnight) and
    random weekend days worked."""
    holidays = set(draw(st.lists(DAYS, max_size=40)))
    working = {d for d in draw(st.lists(DAYS, max_size=20)) if d.weekday() >= 5} - holidays
    return BusinessCalendar(frozenset(holidays), frozenset(working), frozenset(YEARS))


@SETTINGS
@given(calendars(), DAYS)
def test_a_moved_due_date_is_a_working_day_and_never_earlier(
    calendar: BusinessCalendar, due: date
) -> None:
    moved, assumed = calendar.moved(due)
    assert moved >= due
    assert calendar.is_working_day(moved) if moved.year in YEARS else moved.weekday() < 5
    # and it is the first: every day skipped is a day off
    skipped = [due + timedelta(days=n) for n in range((moved - due).days)]
    assert all(not calendar.is_working_day(d) for d in skipped)
    assert assumed == {d.year for d in [*skipped, moved] if d.year not in YEARS}


@SETTINGS
@given(calendars(), st.dates(min_value=date(2024, 2, 1), max_value=date(2026, 12, 20)))
def test_the_grace_dues_are_exactly_the_dates_whose_next_working_day_has_not_passed(
    calendar: BusinessCalendar, d: date
) -> None:
    window = [d - timedelta(days=n) for n in range(1, 32)]
    expected = {t for t in window if calendar.next_working_day(t) >= d}
    assert calendar.grace_dues(d) == expected


# --- the lender's calendar.yaml ----------------------------------------------------------------


def write(home: Path, text: str) -> Path:
    (home / CALENDAR_FILE_NAME).write_text(text, encoding="utf-8")
    return home


def test_without_a_file_the_workspace_has_the_packages_calendar(tmp_path: Path) -> None:
    assert load_calendar(tmp_path).next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)


def test_the_lenders_file_overrides_the_package(tmp_path: Path) -> None:
    """A local holiday on 8 October and the Saturday 10 October off after all: the National
    Day due is then paid on time on Friday 9 October; Sunday 20 September not worked."""
    calendar = load_calendar(
        write(
            tmp_path,
            "holidays: [2026-10-08, 2026-09-20]\nworking_days: [2026-10-07]\n",
        )
    )
    assert calendar.next_working_day(date(2026, 10, 1)) == date(2026, 10, 7)
    calendar = load_calendar(write(tmp_path, "holidays: [2026-10-08, 2026-09-20]\n"))
    assert calendar.next_working_day(date(2026, 10, 1)) == date(2026, 10, 9)
    assert not calendar.is_working_day(date(2026, 9, 20))
    assert "calendar.yaml" in calendar.source


def test_the_lenders_file_covers_a_year_the_package_does_not_know(tmp_path: Path) -> None:
    year = max(package_calendar().known_years) + 1
    text = f"years: [{year}]\nholidays: [{year}-01-01]\n"
    calendar = load_calendar(write(tmp_path, text))
    assert not calendar.is_working_day(date(year, 1, 1))
    first_monday = next(date(year, 1, d) for d in range(2, 9) if date(year, 1, d).weekday() == 0)
    assert calendar.is_working_day(first_monday)


def test_a_holiday_in_a_year_nobody_lists_in_full_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as refused:
        load_calendar(write(tmp_path, "holidays: [2090-01-01]\n"))
    message = str(refused.value)
    assert "2090-01-01 is in 2090" in message and "list 2090 under years" in message
    assert message.startswith(str(tmp_path / CALENDAR_FILE_NAME))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("holidays: [2026-10-08]\nworking_days: [2026-10-08]\n", "listed both"),
        ("holidays: [2026-02-30]\n", "2026-02-30 is not a date"),
        ("holidays: [2026-10-08]\nholidays: [2026-10-09]\n", "duplicate key 'holidays'"),
        ("unknown_years: guess\n", "unknown_years"),
        ("years: [1999]\n", "years: 1999 is outside 2000–2100"),
        ("weekdays: [2026-10-08]\n", "weekdays"),
    ],
)
def test_a_bad_calendar_file_is_one_clear_line(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(BadInput) as refused:
        load_calendar(write(tmp_path, text))
    assert words in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_file_is_read_through_the_strict_yaml_loader() -> None:
    parsed = parse_model(CalendarFile, parse_yaml("unknown_years: weekends_only\n"), "calendar")
    assert parsed.unknown_years is UnknownYears.WEEKENDS_ONLY
    assert parsed.holidays == [] and parsed.years == []
