"""Amounts in capitals by the PBOC voucher rules, and the other document filters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lendflow.domain.errors import BadInput
from lendflow.domain.money import parse_amount
from lendflow.rendering.capitals import amount_in_capitals
from lendflow.rendering.filters import inline_svg, long_date, money, percent


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("0.50", "人民币伍角"),
        ("10.05", "人民币壹拾元零伍分"),
        ("1,409.50", "人民币壹仟肆佰零玖元伍角"),
        ("100,000", "人民币壹拾万元整"),
        ("12,345.67", "人民币壹万贰仟叁佰肆拾伍元陆角柒分"),
        # the examples of 《正确填写票据和结算凭证的基本规定》
        ("16,409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "人民币叁佰贰拾伍元零肆分"),
        ("1,680.32", "人民币壹仟陆佰捌拾元叁角贰分"),
        ("107,000.53", "人民币壹拾万零柒仟元伍角叁分"),
        ("10,500", "人民币壹万零伍佰元整"),
        ("100,010,000", "人民币壹亿零壹万元整"),
        ("0.05", "人民币伍分"),
    ],
)
def test_amount_in_capitals(amount: str, capitals: str) -> None:
    assert amount_in_capitals(parse_amount(amount)) == capitals


def test_zero_and_refusals() -> None:
    assert amount_in_capitals(0) == "人民币零元整"
    with pytest.raises(BadInput, match="negative"):
        amount_in_capitals(-1)
    with pytest.raises(BadInput, match="integer fen"):
        amount_in_capitals(1.5)  # type: ignore[arg-type]


def test_money_percent_and_dates() -> None:
    assert money(123_456_789) == "1,234,567.89"
    assert percent(Decimal("15.6")) == "15.60%"
    assert percent(Decimal("0.066666"), 4) == "0.0667%"
    assert long_date(date(2026, 1, 2), "zh-CN") == "2026年1月2日"
    assert long_date(date(2026, 1, 2), "en") == "2 January 2026"
    with pytest.raises(BadInput, match="integer fen"):
        money("12.00")  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="Decimal"):
        percent(15.6)  # type: ignore[arg-type]


def test_a_chart_with_a_script_is_not_embedded() -> None:
    svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'
    assert inline_svg(svg).startswith("<svg")
    for hostile in (
        "<svg><script>alert(1)</script></svg>",
        '<svg onload="alert(1)"></svg>',
        "<p>not a chart</p>",
    ):
        with pytest.raises(BadInput):
            inline_svg(hostile)
