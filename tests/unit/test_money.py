"""Money: integer fen, one rounding per amount, and input that is never ambiguous.

Every amount a borrower sees passes through `div_round` or `parse_amount`, so a
rounding slip or a loosely parsed amount here is a wrong figure on a contract.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lendflow.domain.errors import BadInput
from lendflow.domain.money import (
    Rounding,
    ceil_to_multiple,
    div_round,
    exact_ratio,
    format_fen,
    format_grouped,
    from_fen,
    parse_amount,
    parse_decimal,
    quantize,
    round_fraction,
    round_to_multiple,
    to_fen,
)

SETTINGS = settings(max_examples=200, deadline=None)
ROUNDINGS = st.sampled_from(list(Rounding))
NUMERATORS = st.integers(min_value=-(10**18), max_value=10**18)
DENOMINATORS = st.integers(min_value=-(10**9), max_value=10**9).filter(lambda d: d != 0)
FEN = st.integers(min_value=-(10**15), max_value=10**15)
MULTIPLES = st.integers(min_value=1, max_value=100_000)


def decimal_reference(numerator: int, denominator: int, rounding: Rounding) -> int:
    """Round the exact quotient with `Decimal.quantize`, the textbook reference.

    The quotient is computed with far more digits than the operands have, so a
    value that is not exactly a half can never be mistaken for one.
    """
    mode = ROUND_HALF_UP if rounding is Rounding.HALF_UP else ROUND_HALF_EVEN
    with localcontext() as ctx:
        ctx.prec = 120
        quotient = Decimal(numerator) / Decimal(denominator)
        return int(quotient.quantize(Decimal(1), rounding=mode))


def fraction_reference(value: Fraction, rounding: Rounding) -> int:
    """Round an exact fraction by comparing its distance to the two neighbours."""
    low = value.numerator // value.denominator
    gap = value - low
    if gap > Fraction(1, 2):
        return low + 1
    if gap < Fraction(1, 2):
        return low
    if rounding is Rounding.HALF_UP:
        return low + 1 if value > 0 else low  # away from zero
    return low if low % 2 == 0 else low + 1


# --- div_round -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounding", "expected"),
    [
        (5, 2, Rounding.HALF_UP, 3),
        (5, 2, Rounding.HALF_EVEN, 2),
        (7, 2, Rounding.HALF_EVEN, 4),
        (-5, 2, Rounding.HALF_UP, -3),
        (-5, 2, Rounding.HALF_EVEN, -2),
        (-7, 2, Rounding.HALF_EVEN, -4),
        (5, -2, Rounding.HALF_UP, -3),
        (-5, -2, Rounding.HALF_UP, 3),
        (1, 3, Rounding.HALF_UP, 0),
        (2, 3, Rounding.HALF_UP, 1),
        (-2, 3, Rounding.HALF_EVEN, -1),
        (0, 7, Rounding.HALF_UP, 0),
        (1, 2, Rounding.HALF_UP, 1),
        (1, 2, Rounding.HALF_EVEN, 0),
        (-1, 2, Rounding.HALF_UP, -1),
        (-1, 2, Rounding.HALF_EVEN, 0),
        (31250, 100, Rounding.HALF_EVEN, 312),
        (31250, 100, Rounding.HALF_UP, 313),
    ],
)
def test_div_round_examples(
    numerator: int, denominator: int, rounding: Rounding, expected: int
) -> None:
    """Ties go away from zero (HALF_UP) or to even (HALF_EVEN), for either sign."""
    assert div_round(numerator, denominator, rounding) == expected


def test_div_round_default_is_half_up() -> None:
    """The lender's default rule settles a half fen in the lender's favour."""
    assert div_round(5, 2) == 3


def test_div_round_by_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        div_round(1, 0)


@SETTINGS
@given(NUMERATORS, DENOMINATORS, ROUNDINGS)
def test_div_round_matches_decimal_quantize(
    numerator: int, denominator: int, rounding: Rounding
) -> None:
    """The one place a fraction of a fen becomes a fen agrees with Decimal's rounding rules."""
    assert div_round(numerator, denominator, rounding) == decimal_reference(
        numerator, denominator, rounding
    )


@SETTINGS
@given(st.integers(min_value=-(10**12), max_value=10**12), DENOMINATORS, ROUNDINGS)
def test_div_round_exact_ties(whole: int, half_denominator: int, rounding: Rounding) -> None:
    """Exact half-fen ties, the case where the two rules differ, match Decimal exactly."""
    denominator = 2 * half_denominator
    numerator = (2 * whole + 1) * half_denominator  # exactly whole + 1/2
    expected = decimal_reference(numerator, denominator, rounding)
    assert div_round(numerator, denominator, rounding) == expected
    assert expected == fraction_reference(Fraction(numerator, denominator), rounding)


@SETTINGS
@given(NUMERATORS, DENOMINATORS, ROUNDINGS)
def test_round_fraction_matches_fraction_reference(
    numerator: int, denominator: int, rounding: Rounding
) -> None:
    """Rounding an exact Fraction is nearest-integer with the named tie rule."""
    value = Fraction(numerator, denominator)
    result = round_fraction(value, rounding)
    assert result == fraction_reference(value, rounding)
    assert abs(value - result) <= Fraction(1, 2)


@SETTINGS
@given(NUMERATORS, DENOMINATORS)
def test_div_round_half_up_is_symmetric(numerator: int, denominator: int) -> None:
    """A refund (negative amount) rounds to the mirror of the charge it reverses."""
    assert div_round(-numerator, denominator) == -div_round(numerator, denominator)


@SETTINGS
@given(NUMERATORS, DENOMINATORS, DENOMINATORS)
def test_div_round_is_monotone(numerator: int, denominator: int, other: int) -> None:
    """A larger exact amount never rounds to a smaller fen amount."""
    a, b = sorted([Fraction(numerator, denominator), Fraction(other, denominator)])
    for rounding in Rounding:
        assert round_fraction(a, rounding) <= round_fraction(b, rounding)


# --- multiples ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "multiple", "rounding", "expected"),
    [
        (31250, 100, Rounding.HALF_UP, 31300),
        (31250, 100, Rounding.HALF_EVEN, 31200),
        (31249, 100, Rounding.HALF_UP, 31200),
        (31251, 100, Rounding.HALF_EVEN, 31300),
        (53_072_700, 2000, Rounding.HALF_UP, 53_072_000),
        (0, 2000, Rounding.HALF_UP, 0),
        (1000, 2000, Rounding.HALF_UP, 2000),
        (1000, 2000, Rounding.HALF_EVEN, 0),
    ],
)
def test_round_to_multiple_examples(
    fen: int, multiple: int, rounding: Rounding, expected: int
) -> None:
    assert round_to_multiple(fen, multiple, rounding) == expected


@pytest.mark.parametrize(
    ("fen", "multiple", "expected"),
    [(0, 100, 0), (1, 100, 100), (100, 100, 100), (101, 100, 200), (-150, 100, -100)],
)
def test_ceil_to_multiple_examples(fen: int, multiple: int, expected: int) -> None:
    assert ceil_to_multiple(fen, multiple) == expected


@pytest.mark.parametrize("multiple", [0, -100])
def test_multiples_must_be_positive(multiple: int) -> None:
    """A zero or negative instalment multiple is bad product data, not a crash."""
    with pytest.raises(BadInput, match="instalment multiple"):
        round_to_multiple(100, multiple)
    with pytest.raises(BadInput, match="instalment multiple"):
        ceil_to_multiple(100, multiple)


@SETTINGS
@given(FEN, MULTIPLES, ROUNDINGS)
def test_round_to_multiple_is_nearest_multiple(fen: int, multiple: int, rounding: Rounding) -> None:
    """A rounded instalment is a multiple and at most half a multiple from the exact one."""
    result = round_to_multiple(fen, multiple, rounding)
    assert result % multiple == 0
    assert 2 * abs(result - fen) <= multiple
    assert result == div_round(fen, multiple, rounding) * multiple


@SETTINGS
@given(FEN, MULTIPLES)
def test_ceil_to_multiple_is_smallest_multiple_not_below(fen: int, multiple: int) -> None:
    """Rounding up never undercharges, and never by a whole multiple or more."""
    result = ceil_to_multiple(fen, multiple)
    assert result % multiple == 0
    assert fen <= result < fen + multiple


# --- conversions and formatting -------------------------------------------------------------


def test_format_examples() -> None:
    """Amounts print with two places and, for documents, with thousands separators."""
    assert format_grouped(140950) == "1,409.50"
    assert format_fen(140950) == "1409.50"
    assert format_fen(5) == "0.05"
    assert format_fen(-5) == "-0.05"
    assert format_fen(0) == "0.00"
    assert format_grouped(100_000_000) == "1,000,000.00"
    assert format_grouped(-123_456_789) == "-1,234,567.89"
    assert from_fen(140950) == Decimal("1409.50")
    assert str(from_fen(140950)) == "1409.50"
    assert str(from_fen(-5)) == "-0.05"


def test_to_fen_examples() -> None:
    assert to_fen(Decimal("12.34")) == 1234
    assert to_fen(Decimal("12.3")) == 1230
    assert to_fen(Decimal("12.300")) == 1230
    assert to_fen(12) == 1200


@pytest.mark.parametrize(
    "amount",
    [Decimal("1.005"), Decimal("NaN"), Decimal("Infinity"), True, 1.5, "12.34"],
)
def test_to_fen_refuses(amount: object) -> None:
    """Fractions of a fen, non-finite values and non-decimals never become money."""
    with pytest.raises(BadInput, match="principal"):
        to_fen(amount, field="principal")  # type: ignore[arg-type]


@SETTINGS
@given(FEN)
def test_fen_round_trips(fen: int) -> None:
    """Every fen amount survives yuan conversion and printing without change."""
    assert to_fen(from_fen(fen)) == fen
    assert to_fen(Decimal(format_fen(fen))) == fen
    assert to_fen(Decimal(format_grouped(fen).replace(",", ""))) == fen
    assert from_fen(fen).as_tuple().exponent == -2


@SETTINGS
@given(st.integers(min_value=1, max_value=10**15))
def test_parse_amount_round_trips_formatting(fen: int) -> None:
    """What lendflow prints, a user can type back in and get the same fen."""
    assert parse_amount(format_fen(fen)) == fen
    assert parse_amount(format_grouped(fen)) == fen
    assert parse_amount(from_fen(fen)) == fen


# --- parse_amount ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000", 100_000),
        ("1000.5", 100_050),
        ("1000.50", 100_050),
        ("1,000.50", 100_050),
        ("1,000,000", 100_000_000),
        (" 12.34 ", 1234),
        ("+12.34", 1234),
        ("0.01", 1),
        (Decimal("12.34"), 1234),
        (1000, 100_000),
    ],
)
def test_parse_amount_accepts(text: str | int | Decimal, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        1000.0,
        0.5,
        "-1",
        "-0.01",
        -5,
        Decimal("-12.34"),
        "10.123",
        Decimal("10.123"),
        "1e5",
        "1E5",
        "abc",
        "",
        "   ",
        "1,00",
        "1,0000",
        "1.",
        ".5",
        "12 34",
        "NaN",
        "Infinity",
        Decimal("NaN"),
        True,
        "0",
        "0.00",
        0,
        Decimal(0),
    ],
)
def test_parse_amount_refuses_and_names_the_field(text: object) -> None:
    """Every refusal is a BadInput that tells the user which field is wrong."""
    with pytest.raises(BadInput, match=r"^principal ") as info:
        parse_amount(text, field="principal")  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["0", "0.00", 0, Decimal("0.00")])
def test_parse_amount_allows_zero_when_asked(text: str | int | Decimal) -> None:
    """A fee may be zero; a principal may not."""
    assert parse_amount(text, field="fee", allow_zero=True) == 0
    with pytest.raises(BadInput, match="more than zero"):
        parse_amount(text, field="fee")


def test_parse_amount_refusal_reasons() -> None:
    """The reason fits the mistake, so a user knows what to fix."""
    with pytest.raises(BadInput, match="float"):
        parse_amount(10.5, field="amount")
    with pytest.raises(BadInput, match="positive"):
        parse_amount("-0.01", field="amount")
    with pytest.raises(BadInput, match="two decimal places"):
        parse_amount("10.123", field="amount")
    with pytest.raises(BadInput, match="not an amount"):
        parse_amount("1e5", field="amount")


@SETTINGS
@given(st.integers(min_value=1, max_value=10**15), st.booleans())
def test_parse_amount_refuses_negatives(fen: int, as_text: bool) -> None:
    """No negative amount is ever taken in, however it is written."""
    value: str | Decimal = "-" + format_fen(fen) if as_text else -from_fen(fen)
    with pytest.raises(BadInput, match="positive"):
        parse_amount(value, field="amount")


@SETTINGS
@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=9))
def test_parse_amount_refuses_a_third_decimal(fen: int, third: int) -> None:
    """A fraction of a fen is refused rather than silently rounded."""
    text = f"{format_fen(fen)}{third}"
    with pytest.raises(BadInput, match="two decimal places"):
        parse_amount(text, field="amount", allow_zero=True)


@SETTINGS
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_parse_amount_refuses_every_float(value: float) -> None:
    """Floats cannot hold most fen amounts exactly, so none is accepted."""
    with pytest.raises(BadInput, match="float"):
        parse_amount(value, field="amount")


# --- parse_decimal --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4.9", Decimal("4.9")),
        (" 4.90 ", Decimal("4.90")),
        ("-1", Decimal(-1)),
        ("+0.5", Decimal("0.5")),
        (12, Decimal(12)),
        (Decimal("0.035"), Decimal("0.035")),
    ],
)
def test_parse_decimal_accepts(text: str | int | Decimal, expected: Decimal) -> None:
    result = parse_decimal(text, field="rate")
    assert result == expected
    assert isinstance(result, Decimal)


@pytest.mark.parametrize(
    "text", [4.9, "4,9", "1e2", "abc", "", ".5", "5.", "NaN", Decimal("NaN"), Decimal("-Inf")]
)
def test_parse_decimal_refuses_and_names_the_field(text: object) -> None:
    """A rate typed wrong is refused with the field's name, never guessed."""
    with pytest.raises(BadInput, match=r"^rate "):
        parse_decimal(text, field="rate")  # type: ignore[arg-type]


@SETTINGS
@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
@example(Decimal("4.90"))
def test_parse_decimal_round_trips_text(value: Decimal) -> None:
    """A rate written as plain digits reads back exactly, with no float in between."""
    text = format(value, "f")
    assert parse_decimal(text, field="rate") == value
    assert exact_ratio(parse_decimal(text, field="rate")) == Fraction(value)


def test_quantize_uses_the_named_rule() -> None:
    assert quantize(Decimal("2.345")) == Decimal("2.35")
    assert quantize(Decimal("2.345"), Rounding.HALF_EVEN) == Decimal("2.34")
    assert quantize(Decimal("-2.345")) == Decimal("-2.35")
    assert quantize(Decimal("2.5"), Rounding.HALF_EVEN, places=0) == Decimal(2)


@pytest.mark.parametrize("raw", ["9" * 30, "9" * 100_000, 10**40, "12345678901234.00"])
def test_absurdly_large_amounts_are_one_line_refusals(raw: object) -> None:
    with pytest.raises(BadInput, match=r"amount is too large: at most 10000000000000\.00"):
        parse_amount(raw)  # type: ignore[arg-type]
