"""The business-day calendar: China's public holidays, and the lender's own calendar.yaml.

The public holidays and the weekend days worked in exchange come from the
`chinese_calendar` package (the State Council's yearly notices; 2004 to the year its
release covers). A lender may keep `calendar.yaml` in the workspace home to extend or
correct it:

```yaml
years: [2027]                 # years this file lists in full (the package may not know them)
holidays: [2027-01-01, ...]   # days off; one listed here wins over the package's working day
working_days: [2027-02-07]    # weekend days worked; one listed here wins over a holiday
unknown_years: refuse         # or weekends_only: judge a year nobody lists by weekends alone
```

A listed date must lie in a year the package knows or the file lists under `years`: a
stray holiday in a year nobody covers in full would make the rest of that year look like
ordinary weeks. The file goes through `loading.parse_yaml` like every other config file.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator

from lendflow.config.loading import load_model
from lendflow.config.policy import Strict
from lendflow.config.settings import CALENDAR_FILE_NAME
from lendflow.domain.bounds import MAX_YEAR, MIN_YEAR
from lendflow.domain.business_days import BusinessCalendar, UnknownYears

PACKAGE_SOURCE = "chinese_calendar"


class CalendarFile(Strict):
    """A lender's calendar.yaml."""

    years: list[int] = Field(default_factory=list, description="years listed in full")
    holidays: list[date] = Field(default_factory=list)
    working_days: list[date] = Field(default_factory=list)
    unknown_years: UnknownYears = UnknownYears.REFUSE

    @model_validator(mode="after")
    def _consistent(self) -> CalendarFile:
        for year in self.years:
            if not MIN_YEAR <= year <= MAX_YEAR:
                raise ValueError(f"years: {year} is outside {MIN_YEAR}–{MAX_YEAR}")
        both = sorted(set(self.holidays) & set(self.working_days))
        if both:
            raise ValueError(f"{both[0]} is listed both as a holiday and as a working day")
        known = package_years() | set(self.years)
        for name in ("holidays", "working_days"):
            for day in getattr(self, name):
                if day.year not in known:
                    raise ValueError(
                        f"{name}: {day} is in {day.year}, which neither {PACKAGE_SOURCE} nor"
                        f" this file's years cover: list {day.year} under years once all its"
                        " holidays and working days are here"
                    )
        return self


@lru_cache(maxsize=1)
def package_days() -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    """(holidays, adjusted working days, years covered) as the installed package lists them."""
    from chinese_calendar import constants  # ~1 ms; only where a calendar is needed

    holidays = frozenset(constants.holidays)
    working = frozenset(constants.workdays)
    years = range(min(d.year for d in holidays), max(d.year for d in holidays) + 1)
    return holidays, working, frozenset(years)


def package_years() -> frozenset[int]:
    return package_days()[2]


def package_calendar() -> BusinessCalendar:
    """The package's calendar alone (no lender file): unknown years refused."""
    holidays, working, years = package_days()
    return BusinessCalendar(holidays, working, years, source=PACKAGE_SOURCE)


def combine(lender: CalendarFile, source: str) -> BusinessCalendar:
    """The package's calendar with the lender's file over it: a date the lender lists
    takes the lender's word, whatever the package says."""
    holidays, working, years = package_days()
    theirs_off, theirs_on = set(lender.holidays), set(lender.working_days)
    return BusinessCalendar(
        frozenset((holidays - theirs_on) | theirs_off),
        frozenset((working - theirs_off) | theirs_on),
        years | frozenset(lender.years),
        lender.unknown_years,
        source=f"{PACKAGE_SOURCE} with {source}",
    )


def load_calendar(home: Path) -> BusinessCalendar:
    """The workspace's calendar: the package's, extended by `home/calendar.yaml` if any."""
    path = home / CALENDAR_FILE_NAME
    if not path.exists():
        return package_calendar()
    return combine(load_model(CalendarFile, path), str(path))
