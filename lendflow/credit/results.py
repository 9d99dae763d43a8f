"""What the risk desk's use cases return: the queue, the blocklist, scorecards as people
read them, and the champion–challenger comparison.

Money is integer fen (`Fen`, "10000.00" in JSON), rates and ratios `Decimal`, dates
`date`; the JSON is what `lendflow queue|blocklist|scorecard|decisions ... --json` has
always printed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from lendflow.domain.rules import Outcome
from lendflow.workspace.results import Fen, Result


class QueuedApplication(Result):
    """An application waiting for a risk officer, with what automated review found."""

    id: int
    product: str
    requested: Fen
    proposed: Fen | None
    """The amount automated review would lend (None where it proposed none)."""
    term: int
    score: int | None
    risk_grade: str | None
    annual_rate: Decimal
    """Percent a year, as stored on the application ("18.00")."""
    reasons: tuple[str, ...]
    waiting_days: int


class QueuePage(Result):
    """One page of the review queue, oldest first, with how many applications wait."""

    total: int
    items: list[QueuedApplication]


class BlockedPerson(Result):
    """A person just put on the blocklist."""

    reason: str
    added_on: date
    added_by: str


class BlocklistEntry(Result):
    """A blocked person, named by the first 16 hex digits of their ID's keyed hash only."""

    id_hash: str
    reason: str
    note: str | None
    added_by: str
    added_on: date


class ScoreBin(Result):
    bin: str
    points: int


class CharacteristicView(Result):
    name: str
    input: str
    reason: str
    bins: tuple[ScoreBin, ...]


class ScalingView(Result):
    """Points to odds: `base_score` at `base_odds` (good:bad), `pdo` points to double them."""

    base_score: int
    base_odds: Decimal
    pdo: int
    factor: Decimal
    offset: Decimal


class ScorecardView(Result):
    """A scorecard as a risk analyst reads it: every bin's points, and the scores it spans."""

    code: str
    version: int
    source: str
    sha256: str
    kind: Literal["scorecard"] = "scorecard"
    scaling: ScalingView
    characteristics: tuple[CharacteristicView, ...]
    score_range: tuple[int, int]


class RuleView(Result):
    rule: int
    when: dict[str, str]
    """Each input's condition as written in the table."""
    outcome: Outcome
    grade: str | None
    max_amount: Fen | None
    reasons: tuple[str, ...]


class DecisionTableView(Result):
    """A decision table as a risk analyst reads it: every rule in order."""

    code: str
    version: int
    source: str
    sha256: str
    kind: Literal["decision_table"] = "decision_table"
    hit_policy: Literal["first", "collect"]
    grades: tuple[str, ...]
    rules: tuple[RuleView, ...]


CreditModelView = ScorecardView | DecisionTableView


class ByModel(Result):
    """One figure for the champion and one for the challenger (None where there is none)."""

    champion: Decimal | None
    challenger: Decimal | None


class Performance(Result):
    """How the loans one selection of decisions took have done: booked, and bad among them."""

    loans: int
    booked: int
    bad: int
    bad_rate: Decimal | None


class ChallengerComparison(Result):
    """Champion against challenger over every application both decided."""

    champion: str | None
    """"code vN" of the champion scorecard (None when nothing was compared)."""
    challenger: str | None
    compared: int
    agreement: Decimal | None
    outcomes: dict[str, int]
    """Applications per "champion/challenger" pair of outcomes, e.g. "approve/refer"."""
    approval_rate: ByModel
    mean_score: ByModel
    both_approve: Performance
    champion_only: Performance
    challenger_only: Performance
