"""Properties of the repayment waterfall: `allocate` spreads a payment over instalments.

The waterfall decides which debt a borrower's money pays off; if it pays more than is
owed, loses a fen, or skips an older instalment, the ledger and the borrower's arrears
are wrong however correct the schedule was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import permutations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lendflow.domain.allocation import COMPONENTS, Allocation, Owed, allocate

SETTINGS = settings(max_examples=200, deadline=None)
ORDERS = st.permutations(COMPONENTS).map(tuple)
COMPONENT_AMOUNT = st.one_of(st.just(0), st.integers(min_value=0, max_value=50_000))


@st.composite
def owed_lists(draw: st.DrawFn) -> list[Owed]:
    """Instalments oldest first, numbered as stored (n may start at 0 for an upfront fee)."""
    first = draw(st.integers(min_value=0, max_value=3))
    count = draw(st.integers(min_value=0, max_value=8))
    return [
        Owed(
            first + i,
            penalty=draw(COMPONENT_AMOUNT),
            fee=draw(COMPONENT_AMOUNT),
            interest=draw(COMPONENT_AMOUNT),
            principal=draw(COMPONENT_AMOUNT),
        )
        for i in range(count)
    ]


def paid_by(allocation: Allocation) -> dict[tuple[int, str], int]:
    """What the allocation pays to each (instalment, component)."""
    paid: dict[tuple[int, str], int] = defaultdict(int)
    for part in allocation.parts:
        paid[part.n, part.component] += part.amount
    return paid


def total_owed(owed: Sequence[Owed]) -> int:
    return sum(item.total for item in owed)


@SETTINGS
@given(owed_lists(), st.integers(min_value=0, max_value=400_000), ORDERS)
@example([Owed(1, principal=100)], 100, COMPONENTS)
@example([Owed(1, principal=100)], 0, COMPONENTS)
@example([], 500, COMPONENTS)
def test_never_pays_more_than_owed_per_component(
    owed: list[Owed], amount: int, order: tuple[str, ...]
) -> None:
    """A payment can never reduce a component below zero: that would invent a refund."""
    allocation = allocate(amount, owed, order)
    paid = paid_by(allocation)
    by_n = {item.n: item for item in owed}
    for (n, component), amount_paid in paid.items():
        assert 0 < amount_paid <= getattr(by_n[n], component)
    assert all(part.amount > 0 for part in allocation.parts)
    assert all(part.component in COMPONENTS for part in allocation.parts)


@SETTINGS
@given(owed_lists(), st.integers(min_value=0, max_value=400_000), ORDERS)
def test_parts_and_remainder_add_up_to_the_amount(
    owed: list[Owed], amount: int, order: tuple[str, ...]
) -> None:
    """Every fen received is either allocated or handed back as the remainder, none lost."""
    allocation = allocate(amount, owed, order)
    assert allocation.total() + allocation.remainder == amount
    assert sum(allocation.total(c) for c in COMPONENTS) == allocation.total()
    assert allocation.total() == min(amount, total_owed(owed))
    assert allocation.remainder == max(amount - total_owed(owed), 0)


@SETTINGS
@given(owed_lists(), st.integers(min_value=0, max_value=400_000), ORDERS)
def test_instalments_are_served_strictly_oldest_first(
    owed: list[Owed], amount: int, order: tuple[str, ...]
) -> None:
    """No fen may go to a later instalment while an earlier one is still in arrears."""
    allocation = allocate(amount, owed, order)
    paid = paid_by(allocation)
    position = {item.n: index for index, item in enumerate(owed)}
    positions = [position[part.n] for part in allocation.parts]
    assert positions == sorted(positions)
    if not positions:
        return
    last = positions[-1]
    for item in owed[:last]:
        assert sum(paid[item.n, c] for c in COMPONENTS) == item.total, (
            f"instalment {item.n} left unpaid while a later one was paid"
        )
    for item in owed[last + 1 :]:
        assert all(paid[item.n, c] == 0 for c in COMPONENTS)


@SETTINGS
@given(owed_lists(), st.integers(min_value=0, max_value=400_000), ORDERS)
def test_within_an_instalment_the_order_holds(
    owed: list[Owed], amount: int, order: tuple[str, ...]
) -> None:
    """The product's waterfall (penalty before principal by default) is the contract."""
    allocation = allocate(amount, owed, order)
    paid = paid_by(allocation)
    rank = {component: index for index, component in enumerate(order)}
    for item in owed:
        ranks = [rank[p.component] for p in allocation.parts if p.n == item.n]
        assert ranks == sorted(ranks)
        assert len(ranks) == len(set(ranks))
        for index, component in enumerate(order):
            if paid[item.n, component] == 0:
                continue
            for earlier in order[:index]:
                assert paid[item.n, earlier] == getattr(item, earlier), (
                    f"{component} of instalment {item.n} paid before {earlier} was cleared"
                )


def test_default_waterfall_pays_penalty_fee_interest_principal() -> None:
    """Worked example: 120 over two instalments pays all of the first, then the second's penalty."""
    owed = [
        Owed(1, penalty=10, fee=20, interest=30, principal=40),
        Owed(2, penalty=5, fee=20, interest=30, principal=40),
    ]
    allocation = allocate(120, owed)
    assert [(p.n, p.component, p.amount) for p in allocation.parts] == [
        (1, "penalty", 10),
        (1, "fee", 20),
        (1, "interest", 30),
        (1, "principal", 40),
        (2, "penalty", 5),
        (2, "fee", 15),
    ]
    assert allocation.remainder == 0


@pytest.mark.parametrize(
    "order",
    [
        ("penalty", "fee", "interest"),
        ("penalty", "fee", "interest", "principal", "principal"),
        ("penalty", "fee", "fee", "principal"),
        ("penalty", "fee", "interest", "capital"),
        ("penalty", "fee", "interest", "principal", "tax"),
        (),
    ],
)
def test_bad_orders_are_refused(order: tuple[str, ...]) -> None:
    """An order that skips or repeats a component would leave debt unpayable or paid twice."""
    with pytest.raises(ValueError, match="allocation order"):
        allocate(100, [Owed(1, principal=100)], order)


def test_every_permutation_is_a_valid_order() -> None:
    """Any ordering of the four components is a legitimate product waterfall."""
    for order in permutations(COMPONENTS):
        assert allocate(10, [Owed(1, principal=10)], order).remainder == 0


@given(st.integers(max_value=-1))
def test_negative_amounts_are_refused(amount: int) -> None:
    """A negative payment is a reversal, never something to spread over a loan."""
    with pytest.raises(ValueError, match="negative"):
        allocate(amount, [Owed(1, principal=100)])
