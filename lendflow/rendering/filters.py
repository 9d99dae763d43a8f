"""Template filters: how amounts, rates and dates look in a document.

Filters take the exact values view models carry (integer fen, `Decimal`
percent, `date`) and refuse anything else, so a float or a string that slipped
into a view fails at render instead of printing a plausible wrong figure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from markupsafe import Markup

from lendflow.domain.errors import BadInput
from lendflow.rendering import formats
from lendflow.rendering.capitals import amount_in_capitals

LOCALES = ("zh-CN", "en")


def _fen(fen: int, name: str) -> int:
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise BadInput(f"{name} filter needs integer fen, got {type(fen).__name__} {fen!r}")
    return fen


def _decimal(value: Decimal | int, name: str) -> Decimal | int:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise BadInput(f"{name} filter needs a Decimal, got {type(value).__name__} {value!r}")
    return value


def money(fen: int) -> str:
    """Yuan with thousands separators and two places: 140950 -> '1,409.50'."""
    return formats.yuan(_fen(fen, "money"))


def whole_yuan(fen: int) -> str:
    """Yuan without needless .00: 3000000 -> '30,000'."""
    return formats.whole_yuan(_fen(fen, "whole_yuan"))


def yi(fen: int) -> str:
    """Fen as 亿元 (a hundred million yuan) to two places."""
    return formats.hundred_million(_fen(fen, "yi"))


def count(number: int) -> str:
    """A count with thousands separators: 12345 -> '12,345'."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise BadInput(f"count filter needs an integer, got {type(number).__name__} {number!r}")
    return formats.count(number)


def capitals(fen: int) -> str:
    return amount_in_capitals(fen)


def percent(value: Decimal | int | None, places: int | None = 2) -> str:
    """A rate already in percent, rounded half up: Decimal('15.6') -> '15.60%'.

    `places=None` keeps the figure's own places; None (no figure) prints a dash.
    """
    return formats.percent(None if value is None else _decimal(value, "percent"), places)


def ratio(value: Decimal | None, places: int = 2) -> str:
    """A ratio as a percentage: Decimal('0.0512') -> '5.12%'; None prints a dash."""
    return formats.ratio_percent(None if value is None else _decimal(value, "ratio"), places)


def decimal(value: str | Decimal | int) -> Decimal:
    """Decimal text as kept in stored figures ('0.0612') made a number again, for the filters."""
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return Decimal(value)
    try:
        return Decimal(str(value)) if isinstance(value, str) else Decimal("x")
    except InvalidOperation:
        raise BadInput(f"decimal filter needs decimal text, got {value!r}") from None


def long_date(value: date, locale: str) -> str:
    """A date as a reader of the locale writes it: 2026年1月12日 / 12 January 2026."""
    if not isinstance(value, date):
        raise BadInput(f"date filter needs a date, got {type(value).__name__} {value!r}")
    return formats.long_date(value, locale)


_PROLOGUE = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?", re.IGNORECASE)
_ACTIVE = re.compile(
    r"<\s*script|<\s*foreignObject|<!ENTITY|javascript:|\son[a-z]+\s*=", re.IGNORECASE
)
_FIGURE = re.compile(r"^[-+]?[0-9][0-9,]*(\.[0-9]+)?%?$")


def inline_svg(svg: str) -> Markup:
    """A chart's SVG, fit to embed in HTML: the XML prologue dropped, nothing active in it.

    Charts are drawn by lendflow itself, but they carry labels from data, so an
    SVG with scripts, event handlers or foreign HTML is refused, not embedded.
    """
    if not isinstance(svg, str):
        raise BadInput(f"a chart must be SVG text, got {type(svg).__name__}")
    body = _PROLOGUE.sub("", svg, count=1)
    if not body.lstrip().startswith("<svg"):
        raise BadInput("a chart must be an SVG document starting with <svg")
    if _ACTIVE.search(body):
        raise BadInput("a chart's SVG holds scripts or event handlers; it is not embedded")
    return Markup(body.strip())


def is_figure(value: object) -> bool:
    """A cell that reads as a number (aligned right): '1,409.50', '-3', '15.60%'."""
    return isinstance(value, str) and bool(_FIGURE.match(value.strip()))


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise BadInput(f"unknown locale {locale!r} (choose {' or '.join(LOCALES)})")
    return locale


FILTERS: dict[str, Callable[..., Any]] = {
    "money": money,
    "whole_yuan": whole_yuan,
    "yi": yi,
    "grouped": count,
    "capitals": capitals,
    "percent": percent,
    "ratio": ratio,
    "decimal": decimal,
    "svg": inline_svg,
}
