"""The launch's channel plan: which acquisition channels to fund, in what order, for what.

A channel acquires prospects at a cost each (cost per acquisition), of whom a
share apply (expected conversion); its fit says what share of those applicants
belong to each customer segment. Channels are ranked by the applications from
the product's target segments that a yuan buys there (conversion × target fit ÷
cost per acquisition), and the budget is spent down that ranking, each channel
up to its capacity, in whole acquisitions: the plan never costs more than the
budget. A channel that reaches no target segment is never funded, whatever it
costs, nor one where what is left of the budget buys no whole application.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from lendflow.domain.money import div_round, round_fraction

HUNDRED = 100


@dataclass(frozen=True)
class Channel:
    """One acquisition channel as the launch plan reads it."""

    code: str
    name: str
    cost_per_acquisition: int  # fen per prospect acquired
    conversion: Decimal  # percent of prospects who apply
    capacity: int  # the most prospects the channel can bring in the launch period
    fit: Mapping[str, Decimal]  # segment -> percent of the channel's applicants in it

    def target_fit(self, targets: Sequence[str]) -> Decimal:
        """Percent of the channel's applicants who are in a target segment."""
        return sum((self.fit.get(s, Decimal(0)) for s in targets), Decimal(0))


@dataclass(frozen=True)
class PlannedChannel:
    rank: int
    code: str
    name: str
    acquisitions: int
    cost: int  # fen
    applications: int  # expected, whole applications
    target_applications: int  # expected from the target segments
    by_segment: dict[str, int]  # expected applications per segment
    cost_per_application: int | None  # fen; None when nothing is expected
    target_fit: Decimal

    @property
    def funded(self) -> bool:
        return self.acquisitions > 0


@dataclass(frozen=True)
class ChannelPlan:
    budget: int
    channels: tuple[PlannedChannel, ...]

    @property
    def cost(self) -> int:
        return sum(c.cost for c in self.channels)

    @property
    def applications(self) -> int:
        return sum(c.applications for c in self.channels)

    @property
    def target_applications(self) -> int:
        return sum(c.target_applications for c in self.channels)

    def by_segment(self, segment: str) -> int:
        return sum(c.by_segment.get(segment, 0) for c in self.channels)


def _yield_per_fen(channel: Channel, targets: Sequence[str]) -> Fraction | None:
    """Target applications per fen spent; None for a free channel (it ranks first)."""
    per_prospect = (
        Fraction(channel.conversion) * Fraction(channel.target_fit(targets)) / (HUNDRED * HUNDRED)
    )
    if channel.cost_per_acquisition == 0:
        return None
    return per_prospect / channel.cost_per_acquisition


def _rank_key(channel: Channel, targets: Sequence[str]) -> tuple[bool, bool, Fraction, int, str]:
    """Channels on target first; among them free ones, then the most per yuan; then cheaper."""
    value = _yield_per_fen(channel, targets)
    off_target = channel.target_fit(targets) <= 0
    return (
        off_target,
        value is not None,
        -(value or Fraction(0)),
        channel.cost_per_acquisition,
        channel.code,
    )


def plan_channels(channels: Sequence[Channel], budget: int, targets: Sequence[str]) -> ChannelPlan:
    """Rank the channels and spend `budget` (fen) down the ranking, within capacities."""
    if budget < 0:
        raise ValueError("the budget cannot be negative")
    remaining = budget
    planned = []
    for rank, channel in enumerate(sorted(channels, key=lambda c: _rank_key(c, targets)), 1):
        on_target = channel.target_fit(targets) > 0
        if not on_target:
            acquisitions = 0
        elif channel.cost_per_acquisition == 0:
            acquisitions = channel.capacity
        else:
            acquisitions = min(channel.capacity, remaining // channel.cost_per_acquisition)
        applications = round_fraction(Fraction(acquisitions) * Fraction(channel.conversion) / 100)
        if not applications:
            acquisitions = 0  # the budget's last crumbs buy no application: keep them
        cost = acquisitions * channel.cost_per_acquisition
        remaining -= cost
        by_segment = {
            segment: round_fraction(Fraction(applications) * Fraction(share) / HUNDRED)
            for segment, share in channel.fit.items()
        }
        planned.append(
            PlannedChannel(
                rank=rank,
                code=channel.code,
                name=channel.name,
                acquisitions=acquisitions,
                cost=cost,
                applications=applications,
                target_applications=sum(by_segment.get(s, 0) for s in targets),
                by_segment=by_segment,
                cost_per_application=div_round(cost, applications) if applications else None,
                target_fit=channel.target_fit(targets),
            )
        )
    return ChannelPlan(budget=budget, channels=tuple(planned))
