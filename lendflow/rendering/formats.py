"""How figures are written in documents and reports: percentages, yuan and dates per locale.

The one place a rate, an amount or a date becomes text. Amounts are integer fen
and go through the domain's `format_grouped` (the one way to print fen); rates
are `Decimal` percent or ratios, rounded half up; a figure that is not there is
a dash. Both locales write numbers the same way (1,409.50; 15.60%); dates and
the words around the figures differ, and those are the templates'.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from lendflow.domain.money import format_grouped

NONE = "—"
"""What a figure that is not there prints as."""
HUNDRED = Decimal(100)
YI = 10_000_000_000
"""Fen in one 亿元 (a hundred million yuan), the unit market figures are read in."""
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent(value: Decimal | int | str | None, places: int | None = 2) -> str:
    """A rate already in percent: Decimal('15.6') -> '15.60%'; `places=None` keeps its own."""
    if value is None:
        return NONE
    number = Decimal(value)
    return f"{number if places is None else _rounded(number, places)}%"


def ratio_percent(ratio: Decimal | str | None, places: int = 2) -> str:
    """A ratio as a percentage: Decimal('0.0512') -> '5.12%'."""
    return NONE if ratio is None else percent(Decimal(ratio) * HUNDRED, places)


def yuan(fen: int | Decimal | None) -> str:
    """Yuan with thousands separators and two places; fractions of a fen round half up."""
    if fen is None:
        return NONE
    if isinstance(fen, Decimal):
        fen = int(_rounded(fen, 0))
    return format_grouped(fen)


def whole_yuan(fen: int) -> str:
    """`30,000` for a round amount, `1,409.50` otherwise: ranges read easier without .00."""
    return f"{fen // 100:,}" if fen % 100 == 0 else format_grouped(fen)


def hundred_million(fen: int) -> str:
    """Fen as 亿元 (hundreds of millions of yuan) to two places: how market sizes are read."""
    return str(_rounded(Decimal(fen) / YI, 2))


def count(number: int) -> str:
    """A count with thousands separators: 12345 -> '12,345'."""
    return f"{number:,}"


def long_date(value: date, locale: str) -> str:
    """A date as a reader of the locale writes it: 2026年1月12日 / 12 January 2026."""
    if locale == "en":
        return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.year}年{value.month}月{value.day}日"
