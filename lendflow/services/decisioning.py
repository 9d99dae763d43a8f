"""The seam for credit decisioning.

Starting a review asks the decider for a decision. `ManualReview` decides
nothing, so every application waits for a person; the automated scorecard and
decision tables plug in here as another `CreditDecider`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class CreditDecision:
    outcome: Literal["approve", "reject", "refer"]
    approved_amount: int | None = None
    annual_rate: str | None = None
    reasons: tuple[str, ...] = ()
    record: Mapping[str, Any] = field(default_factory=dict)


class CreditDecider(Protocol):
    def decide(self, application: Mapping[str, Any]) -> CreditDecision: ...


class ManualReview:
    """Refers every application to a person."""

    def decide(self, application: Mapping[str, Any]) -> CreditDecision:
        return CreditDecision(outcome="refer", reasons=("manual_review",))
