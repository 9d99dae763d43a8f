"""Money: integer fen at rest, exact rational arithmetic in between.

Amounts are stored and passed as integer fen (1 yuan = 100 fen). Every
computation that needs a fraction of a fen is done on exact integers or
`Decimal` and rounded once, by a named rule, back to fen. Floats never appear:
`parse_amount` and `parse_decimal` refuse them, and amounts typed with more than
two decimals are refused as typed, not after conversion.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from lendflow.domain.errors import BadInput

FEN_PER_YUAN = 100
TWO_PLACES = Decimal("0.01")
ZERO = Decimal(0)

_AMOUNT = re.compile(r"^\+?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$")


class Rounding(StrEnum):
    """How a fraction of a fen is settled; HALF_UP is the lender's default."""

    HALF_UP = "HALF_UP"
    HALF_EVEN = "HALF_EVEN"

    @property
    def decimal_mode(self) -> str:
        return ROUND_HALF_UP if self is Rounding.HALF_UP else ROUND_HALF_EVEN


def div_round(numerator: int, denominator: int, rounding: Rounding = Rounding.HALF_UP) -> int:
    """Divide two integers and round to the nearest integer by `rounding`.

    This is the single place where a fraction of a fen becomes a whole fen, so
    every amount in a schedule is the exact rational result rounded once.
    Halves round away from zero (HALF_UP) or to the even neighbour (HALF_EVEN).
    """
    if denominator == 0:
        raise ZeroDivisionError("division by zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    negative = numerator < 0
    quotient, remainder = divmod(abs(numerator), denominator)
    twice = 2 * remainder
    if twice > denominator or (
        twice == denominator and (rounding is Rounding.HALF_UP or quotient % 2 == 1)
    ):
        quotient += 1
    return -quotient if negative else quotient


def round_fraction(value: Fraction, rounding: Rounding = Rounding.HALF_UP) -> int:
    """Round an exact fraction of fen to whole fen."""
    return div_round(value.numerator, value.denominator, rounding)


def round_to_multiple(fen: int, multiple_fen: int, rounding: Rounding = Rounding.HALF_UP) -> int:
    """Round an amount to the nearest multiple of `multiple_fen` (ties by `rounding`)."""
    if multiple_fen <= 0:
        raise BadInput(f"instalment multiple must be positive, got {format_fen(multiple_fen)}")
    return div_round(fen, multiple_fen, rounding) * multiple_fen


def ceil_to_multiple(fen: int, multiple_fen: int) -> int:
    """Round an amount up to the next multiple of `multiple_fen`."""
    if multiple_fen <= 0:
        raise BadInput(f"instalment multiple must be positive, got {format_fen(multiple_fen)}")
    return -(-fen // multiple_fen) * multiple_fen


MAX_FEN = 10**15
"""Ten trillion yuan: far beyond any loan, and far inside a BIGINT column."""


def to_fen(amount: Decimal | int, *, field: str = "amount") -> int:
    """Convert a yuan amount with at most two decimals to integer fen, exactly."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise BadInput(f"{field} must be a decimal amount, got {type(amount).__name__}")
    if isinstance(amount, int):
        return _bounded(amount * FEN_PER_YUAN, field)
    if not amount.is_finite():
        raise BadInput(f"{field} must be a finite amount, got {amount}")
    if amount.adjusted() > 14:  # more digits than any amount we take: refuse before int()
        raise BadInput(f"{field} is too large: at most {format_fen(MAX_FEN)}")
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise BadInput(f"{field} has more than two decimal places: {amount}")
    return _bounded(int(fen), field)


def _bounded(fen: int, field: str) -> int:
    if abs(fen) > MAX_FEN:
        raise BadInput(f"{field} is too large: at most {format_fen(MAX_FEN)}")
    return fen


def from_fen(fen: int) -> Decimal:
    """Integer fen as a yuan `Decimal` with exactly two places."""
    return Decimal(fen).scaleb(-2)


def format_fen(fen: int) -> str:
    """Plain two-place yuan string: 1409.5 yuan -> '1409.50'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{yuan}.{cents:02d}"


def format_grouped(fen: int) -> str:
    """Two-place yuan string with thousands separators: '1,409.50'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{yuan:,}.{cents:02d}"


def parse_amount(
    text: str | int | Decimal, *, field: str = "amount", allow_zero: bool = False
) -> int:
    """Parse a user-typed yuan amount into fen, refusing anything ambiguous.

    Accepts '1000', '1000.5', '1,000.50'; refuses negatives, more than two
    decimals, exponents, floats and garbage, each with a one-line reason.
    """
    if isinstance(text, float):
        raise BadInput(f"{field} must not be a float; give it as a decimal string")
    if isinstance(text, (int, Decimal)) and not isinstance(text, bool):
        fen = to_fen(text, field=field)
    else:
        raw = str(text).strip()
        if raw.startswith("-"):
            raise BadInput(f"{field} must be positive, got {raw}")
        if not _AMOUNT.match(raw):
            shown = raw if len(raw) <= 40 else f"{raw[:20]}…({len(raw)} characters)"
            raise BadInput(f"{field} is not an amount: {shown!r} (use digits like 1000 or 1000.50)")
        if len(raw.partition(".")[2]) > 2:
            raise BadInput(f"{field} has more than two decimal places: {raw}")
        try:
            value = Decimal(raw.replace(",", "").lstrip("+"))
        except InvalidOperation as exc:  # pragma: no cover - the regex already guards
            raise BadInput(f"{field} is not an amount: {raw!r}") from exc
        fen = to_fen(value, field=field)
    if fen < 0:
        raise BadInput(f"{field} must be positive, got {format_fen(fen)}")
    if fen == 0 and not allow_zero:
        raise BadInput(f"{field} must be more than zero")
    return fen


def parse_decimal(text: str | int | Decimal, *, field: str) -> Decimal:
    """Parse a plain decimal number (a rate, a ratio) without going through float."""
    if isinstance(text, float):
        raise BadInput(f"{field} must not be a float; give it as a decimal string")
    if isinstance(text, Decimal):
        value = text
    else:
        raw = str(text).strip()
        if not re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", raw):
            raise BadInput(f"{field} is not a number: {raw!r}")
        value = Decimal(raw)
    if not value.is_finite():
        raise BadInput(f"{field} must be a finite number, got {value}")
    return value


def quantize(value: Decimal, rounding: Rounding = Rounding.HALF_UP, places: int = 2) -> Decimal:
    """Round a `Decimal` to `places` decimals by a named rule."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding.decimal_mode)


def exact_ratio(value: Decimal) -> Fraction:
    """A `Decimal` as an exact fraction, for rational arithmetic without drift."""
    return Fraction(value)
