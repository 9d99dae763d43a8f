"""The seam for credit decisioning, and the manual decider.

Starting a review asks the workspace's decider for a decision inside the review
transaction. `ManualReview` decides nothing, so every application waits for a
person; `AutomatedReview` (credit/review.py) scores, applies the
product's decision table and prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from lendflow.store.uow import UnitOfWork


@dataclass(frozen=True)
class CreditDecision:
    outcome: Literal["approve", "reject", "refer"]
    approved_amount: int | None = None
    annual_rate: str | None = None
    risk_grade: str | None = None
    reasons: tuple[str, ...] = ()
    records: tuple[Mapping[str, Any], ...] = ()
    """credit_decisions rows (without loan, date and actor) for champion and challengers."""


class CreditDecider(Protocol):
    def decide(self, uow: UnitOfWork, loan: Mapping[str, Any], as_of: date) -> CreditDecision: ...


class ManualReview:
    """Refers every application to a person."""

    def decide(self, uow: UnitOfWork, loan: Mapping[str, Any], as_of: date) -> CreditDecision:
        return CreditDecision(outcome="refer", reasons=("MANUAL_REVIEW",))
