"""The pricing floor: the lowest yield at which a product does not lose money.

A loan book must earn at least what its money costs, what its defaults are
expected to take (probability of default × loss given default), and what it
costs to run. All figures are percent a year of the balance, kept exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class PricingFloor:
    """The floor and its parts, percent a year."""

    cost_of_funds: Decimal
    expected_loss: Decimal
    operating_cost: Decimal

    @property
    def floor(self) -> Decimal:
        return self.cost_of_funds + self.expected_loss + self.operating_cost

    def as_dict(self) -> dict[str, str]:
        return {
            "cost_of_funds": str(self.cost_of_funds),
            "expected_loss": str(self.expected_loss),
            "operating_cost": str(self.operating_cost),
            "floor": str(self.floor),
        }


def pricing_floor(
    cost_of_funds: Decimal,
    probability_of_default: Decimal,
    loss_given_default: Decimal,
    operating_cost: Decimal,
) -> PricingFloor:
    """The floor from its assumptions, each in percent (PD a year, LGD of the exposure)."""
    for name, value in (
        ("cost of funds", cost_of_funds),
        ("probability of default", probability_of_default),
        ("loss given default", loss_given_default),
        ("operating cost", operating_cost),
    ):
        if value < 0:
            raise ValueError(f"{name} cannot be negative, got {value}%")
    if probability_of_default > 100 or loss_given_default > 100:
        raise ValueError("probability of default and loss given default are at most 100%")
    expected_loss = probability_of_default * loss_given_default / 100
    return PricingFloor(cost_of_funds, expected_loss, operating_cost)
