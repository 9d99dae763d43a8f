"""Points scorecards: bins of each characteristic carry points; the sum is the score.

The score is scaled the standard way, so that a score means odds of good to bad:
`factor = PDO / ln 2`, `offset = base − factor · ln(base odds)`, and
`odds = base odds · 2^((score − base) / PDO)`. With the default 600 points at
50:1 and PDO 20, a score of 620 means 100:1.

Points may be written directly, or derived from a logistic model of the log
odds of good, `ln(odds) = α + Σ β·woe`, with woe = ln(share of goods / share of
bads) per bin: `points = (woe · β + α / n) · factor + offset / n`, rounded half up,
so a modeller's output and a hand-written card are scored the same way. All the
arithmetic is `Decimal`: a score must be the same on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from itertools import pairwise

NumberLike = int | Decimal
LN2 = Decimal(2).ln()


@dataclass(frozen=True, slots=True)
class Scaling:
    """Base score at base odds (good:bad), and points to double the odds."""

    base_score: int = 600
    base_odds: Decimal = Decimal(50)
    pdo: int = 20

    @property
    def factor(self) -> Decimal:
        return Decimal(self.pdo) / LN2

    @property
    def offset(self) -> Decimal:
        return self.base_score - self.factor * self.base_odds.ln()

    def odds_at(self, score: int) -> Decimal:
        """Odds of good to bad that a score stands for."""
        with localcontext() as ctx:
            ctx.prec = 28
            return self.base_odds * Decimal(2) ** (Decimal(score - self.base_score) / self.pdo)

    def probability_of_default(self, score: int) -> Decimal:
        """PD = 1 / (1 + odds), to six places: the figure pricing and reports quote."""
        return (1 / (1 + self.odds_at(score))).quantize(Decimal("0.000001"), ROUND_HALF_UP)

    def points_from_woe(
        self, woe: Decimal, coefficient: Decimal, intercept: Decimal, characteristics: int
    ) -> int:
        """One attribute's points from its weight of evidence in a logistic model."""
        raw = (woe * coefficient + intercept / characteristics) * self.factor + (
            self.offset / characteristics
        )
        return int(raw.to_integral_value(ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class NumericBin:
    """Values in [lower, upper); None is unbounded on that side."""

    lower: NumberLike | None
    upper: NumberLike | None
    points: int
    label: str

    def holds(self, value: NumberLike) -> bool:
        return (self.lower is None or value >= self.lower) and (
            self.upper is None or value < self.upper
        )


@dataclass(frozen=True, slots=True)
class CategoryBin:
    values: frozenset[str]
    points: int
    label: str


@dataclass(frozen=True, slots=True)
class Characteristic:
    """One scored input. Bins are checked at load to cover every value exactly once."""

    name: str
    input: str
    reason: str
    numeric_bins: tuple[NumericBin, ...] = ()
    category_bins: tuple[CategoryBin, ...] = ()
    otherwise: int | None = None
    missing: int | None = None

    def _bin_points(self) -> list[int]:
        points = [b.points for b in self.numeric_bins] + [b.points for b in self.category_bins]
        if self.otherwise is not None:
            points.append(self.otherwise)
        return points

    @property
    def max_points(self) -> int:
        return max(self._bin_points())

    @property
    def min_points(self) -> int:
        return min(self._bin_points())

    def points_for(self, value: object) -> tuple[int, str]:
        """(points, bin label) for a value; a missing value scores the `missing` points,
        else the characteristic's lowest — an unknown fact never earns credit."""
        if value is None:
            if self.missing is not None:
                return self.missing, "missing"
            return self.min_points, "missing"
        if self.numeric_bins:
            for b in self.numeric_bins:
                if b.holds(value):  # type: ignore[arg-type]
                    return b.points, b.label
            raise AssertionError(f"{self.name}: bins do not cover {value}")  # load checks this
        text = str(value)
        for c in self.category_bins:
            if text in c.values:
                return c.points, c.label
        assert self.otherwise is not None  # load requires it for category bins
        return self.otherwise, "other"


@dataclass(frozen=True, slots=True)
class Scorecard:
    code: str
    version: int
    scaling: Scaling
    characteristics: tuple[Characteristic, ...]

    @property
    def inputs(self) -> frozenset[str]:
        return frozenset(c.input for c in self.characteristics)


@dataclass(frozen=True, slots=True)
class ScoredCharacteristic:
    name: str
    value: object
    bin: str
    points: int
    points_lost: int
    reason: str


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score: int
    probability_of_default: Decimal
    lines: tuple[ScoredCharacteristic, ...]

    def reasons(self, most: int = 4) -> tuple[str, ...]:
        """Reason codes of the characteristics that cost the most points against their best
        bin — the explanation a declined applicant is owed, worst first."""
        costly = sorted(
            (line for line in self.lines if line.points_lost > 0),
            key=lambda line: -line.points_lost,
        )
        return tuple(line.reason for line in costly[:most])

    def points(self) -> dict[str, int]:
        return {line.name: line.points for line in self.lines}


def score(card: Scorecard, facts: Mapping[str, object]) -> ScoreResult:
    """Score an applicant's facts; every input the card names must be present as a key."""
    lines = []
    total = 0
    for c in card.characteristics:
        value = facts[c.input]
        points, label = c.points_for(value)
        total += points
        lines.append(
            ScoredCharacteristic(c.name, value, label, points, c.max_points - points, c.reason)
        )
    return ScoreResult(total, card.scaling.probability_of_default(total), tuple(lines))


def coverage_problems(bins: Sequence[NumericBin]) -> list[str]:
    """Gaps and overlaps in numeric bins, which must tile the whole number line in order."""
    problems: list[str] = []
    if not bins:
        return ["needs at least one bin"]
    if bins[0].lower is not None:
        problems.append(f"bins[0]: values below {bins[0].lower} fall in no bin (omit its lower)")
    if bins[-1].upper is not None:
        last = len(bins) - 1
        problems.append(
            f"bins[{last}]: values from {bins[-1].upper} up fall in no bin (omit its upper)"
        )
    for i, (before, after) in enumerate(pairwise(bins), start=1):
        if before.upper is None or after.lower is None:
            problems.append(f"bins[{i}]: overlaps bins[{i - 1}] (only the ends may be open)")
        elif after.lower < before.upper:
            problems.append(
                f"bins[{i}]: starts at {after.lower}, inside bins[{i - 1}] (ends {before.upper})"
            )
        elif after.lower > before.upper:
            problems.append(
                f"bins[{i}]: values from {before.upper} to {after.lower} fall in no bin"
            )
    for i, b in enumerate(bins):
        if b.lower is not None and b.upper is not None and b.upper <= b.lower:
            problems.append(f"bins[{i}]: upper {b.upper} is not above lower {b.lower}")
    return problems
