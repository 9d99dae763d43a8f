"""Pydantic field types for money and rates that never pass through float.

YAML reads `1000.50` as a float, so amounts and rates in files are written as
quoted strings ("1000.50") or whole numbers; a float is refused with a hint.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from lendflow.domain.errors import BadInput
from lendflow.domain.money import format_fen, parse_amount, parse_decimal


def _amount(value: Any) -> int:
    if isinstance(value, float):
        raise ValueError(f'write amounts in quotes to keep them exact, e.g. "{value:.2f}"')
    try:
        return parse_amount(value, field="amount", allow_zero=True)
    except BadInput as exc:
        raise ValueError(str(exc)) from None


def _percent(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f'write rates in quotes to keep them exact, e.g. "{value}"')
    try:
        rate = parse_decimal(value, field="rate")
    except BadInput as exc:
        raise ValueError(str(exc)) from None
    if rate < 0:
        raise ValueError(f"rate cannot be negative, got {rate}")
    return rate


Fen = Annotated[int, BeforeValidator(_amount), PlainSerializer(format_fen, return_type=str)]
"""An amount written in yuan ("1000.50") and held as integer fen."""

Percent = Annotated[Decimal, BeforeValidator(_percent), PlainSerializer(str, return_type=str)]
"""A rate in percent written as a quoted decimal ("18.25")."""
