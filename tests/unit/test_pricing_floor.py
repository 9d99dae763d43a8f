"""The pricing floor: cost of funds + PD × LGD + operating cost, exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendflow.domain.pricing_floor import pricing_floor


def test_the_floor_adds_funds_expected_loss_and_running_costs() -> None:
    floor = pricing_floor(Decimal("4.80"), Decimal("4.50"), Decimal("75"), Decimal("5.50"))
    assert floor.expected_loss == Decimal("3.375")
    assert floor.floor == Decimal("13.675")
    assert floor.as_dict()["floor"] == "13.675"


@given(
    cost=st.decimals(min_value=0, max_value=20, places=2),
    pd=st.decimals(min_value=0, max_value=100, places=2),
    lgd=st.decimals(min_value=0, max_value=100, places=2),
    opex=st.decimals(min_value=0, max_value=20, places=2),
)
def test_a_riskier_book_never_lowers_the_floor(
    cost: Decimal, pd: Decimal, lgd: Decimal, opex: Decimal
) -> None:
    base = pricing_floor(cost, pd, lgd, opex).floor
    assert base >= cost + opex
    if pd < 100:
        assert pricing_floor(cost, pd + Decimal("0.01"), lgd, opex).floor >= base


def test_impossible_assumptions_are_refused() -> None:
    with pytest.raises(ValueError, match="cost of funds cannot be negative"):
        pricing_floor(Decimal(-1), Decimal(1), Decimal(50), Decimal(1))
    with pytest.raises(ValueError, match="at most 100%"):
        pricing_floor(Decimal(1), Decimal(101), Decimal(50), Decimal(1))
