"""Market research arithmetic: demand by segment, affordability, competitor benchmarks.

Pure: parsed rows in, figures out. Amounts are integer fen and rates `Decimal`
percent. Percentiles interpolate linearly between the closest ranks (the usual
spreadsheet definition) on exact fractions and are rounded once, to the fen or
to a hundredth of a percent, so a report always shows the same figures for the
same file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import pairwise

from lendflow.domain.money import div_round, format_grouped, round_fraction

PERCENTILES = (10, 25, 50, 75, 90)
"""The percentiles every distribution in a research report is summarised by."""

DEMAND_BAND = (10, 90)
"""The demand band of a segment: the middle 80% of the amounts its people ask for."""

AMOUNT_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 500_000),
    (500_000, 1_000_000),
    (1_000_000, 2_000_000),
    (2_000_000, 5_000_000),
    (5_000_000, 10_000_000),
    (10_000_000, 20_000_000),
    (20_000_000, None),
)
"""Amount bands in fen, [low, high): up to 5,000 yuan, 5,000–10,000, … 200,000 and above."""

GAP_DEMAND_SHARE = Decimal(10)
"""A band or term wanted by at least this percent of the target segments' people …"""
GAP_COVERAGE = Fraction(1, 3)
"""… and served by at most this share of competitors is a gap to position into."""
SERVICE_RATING = Decimal("4.0")
"""Competitors rated below this are the ones whose customers look for an alternative."""

_PERCENT = Decimal("0.01")
_ONE_PLACE = Decimal("0.1")


@dataclass(frozen=True)
class SurveyResponse:
    """One surveyed person: what they would borrow and what they can carry (fen a month)."""

    respondent: str
    segment: str
    age: int
    desired_amount: int
    desired_term: int
    purpose: str
    monthly_income: int
    monthly_expenses: int
    existing_debt_payment: int


@dataclass(frozen=True)
class Competitor:
    """One competing product as published: APR in percent, amounts in fen, terms in months."""

    lender: str
    product: str
    apr: Decimal
    min_amount: int
    max_amount: int
    terms: tuple[int, ...]
    methods: tuple[str, ...]
    rating: Decimal
    reviews: int


def percentile(values: Sequence[int | Decimal], p: int) -> Fraction:
    """The `p`-th percentile (0–100) by linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("a percentile of nothing is undefined")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    ordered = sorted(Fraction(v) for v in values)
    position = Fraction(p, 100) * (len(ordered) - 1)
    below = int(position)
    if below + 1 >= len(ordered):
        return ordered[-1]
    return ordered[below] + (position - below) * (ordered[below + 1] - ordered[below])


def percentile_fen(values: Sequence[int], p: int) -> int:
    """A percentile of amounts, rounded half up to the fen."""
    return round_fraction(percentile(values, p))


def percentile_rate(values: Sequence[Decimal], p: int) -> Decimal:
    """A percentile of rates in percent, rounded half up to a hundredth."""
    exact = percentile(values, p)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(_PERCENT, ROUND_HALF_UP)


def percentile_rank(values: Sequence[Decimal | int], value: Decimal | int) -> Decimal:
    """Where `value` sits among `values`, in percent: the share below it, ties counted half."""
    if not values:
        raise ValueError("a rank among nothing is undefined")
    below = sum(1 for v in values if v < value)
    equal = sum(1 for v in values if v == value)
    rank = (Decimal(below) + Decimal(equal) / 2) * 100 / len(values)
    return rank.quantize(_ONE_PLACE, ROUND_HALF_UP)


def share(part: int, whole: int) -> Decimal:
    """`part` of `whole` in percent, to one place (zero of nothing)."""
    if whole == 0:
        return Decimal(0).quantize(_ONE_PLACE)
    return (Decimal(part) * 100 / whole).quantize(_ONE_PLACE, ROUND_HALF_UP)


def affordable_instalment(
    income: int, expenses: int, debt_payment: int, debt_service_cap: Decimal
) -> int:
    """The largest new monthly instalment (fen) a person can carry.

    Two limits, the tighter wins: all debt service within `debt_service_cap`
    percent of income (the lender's debt-to-income rule), and nothing beyond
    what is left after living expenses and the debts already carried.
    """
    ratio = Fraction(debt_service_cap)
    by_ratio = div_round(income * ratio.numerator, ratio.denominator * 100) - debt_payment
    by_budget = income - expenses - debt_payment
    return max(0, min(by_ratio, by_budget))


@dataclass(frozen=True)
class SegmentDemand:
    """What one segment wants and can carry."""

    segment: str
    responses: int
    share: Decimal
    amounts: dict[int, int]
    terms: dict[int, int]
    purposes: dict[str, int]
    median_income: int
    median_expenses: int
    median_debt_payment: int
    affordable_instalment: int
    median_affordable_instalment: int

    def as_dict(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "responses": self.responses,
            "share": str(self.share),
            "amounts": {f"p{p}": v for p, v in self.amounts.items()},
            "terms": {str(t): n for t, n in self.terms.items()},
            "purposes": dict(self.purposes),
            "median_income": self.median_income,
            "median_expenses": self.median_expenses,
            "median_debt_payment": self.median_debt_payment,
            "affordable_instalment": self.affordable_instalment,
            "median_affordable_instalment": self.median_affordable_instalment,
        }


def segment_demand(
    responses: Sequence[SurveyResponse], debt_service_cap: Decimal
) -> list[SegmentDemand]:
    """Each segment's demand distribution and affordable instalment, largest segment first.

    `affordable_instalment` is the instalment a borrower with the segment's
    median income, expenses and debts can carry: the figure a product's largest
    loan is held against. `median_affordable_instalment` is the median over the
    segment's people, for comparison.
    """
    by_segment: dict[str, list[SurveyResponse]] = {}
    for response in responses:
        by_segment.setdefault(response.segment, []).append(response)
    result = []
    for segment, rows in by_segment.items():
        income = percentile_fen([r.monthly_income for r in rows], 50)
        expenses = percentile_fen([r.monthly_expenses for r in rows], 50)
        debt = percentile_fen([r.existing_debt_payment for r in rows], 50)
        result.append(
            SegmentDemand(
                segment=segment,
                responses=len(rows),
                share=share(len(rows), len(responses)),
                amounts={
                    p: percentile_fen([r.desired_amount for r in rows], p) for p in PERCENTILES
                },
                terms=dict(sorted(Counter(r.desired_term for r in rows).items())),
                purposes=dict(Counter(r.purpose for r in rows).most_common()),
                median_income=income,
                median_expenses=expenses,
                median_debt_payment=debt,
                affordable_instalment=affordable_instalment(
                    income, expenses, debt, debt_service_cap
                ),
                median_affordable_instalment=percentile_fen(
                    [
                        affordable_instalment(
                            r.monthly_income,
                            r.monthly_expenses,
                            r.existing_debt_payment,
                            debt_service_cap,
                        )
                        for r in rows
                    ],
                    50,
                ),
            )
        )
    return sorted(result, key=lambda d: (-d.responses, d.segment))


@dataclass(frozen=True)
class DemandBand:
    """The amounts the target segments ask for: low and high ends of the band, and the median."""

    low: int
    median: int
    high: int
    responses: int

    def as_dict(self) -> dict[str, int]:
        return {
            "low": self.low,
            "median": self.median,
            "high": self.high,
            "responses": self.responses,
        }


def demand_band(responses: Iterable[SurveyResponse], segments: Iterable[str]) -> DemandBand:
    """The demand band (P10–P90 of desired amounts) of the people in `segments`."""
    wanted = set(segments)
    amounts = [r.desired_amount for r in responses if r.segment in wanted]
    if not amounts:
        raise ValueError("no survey responses in the target segments")
    low, high = DEMAND_BAND
    return DemandBand(
        low=percentile_fen(amounts, low),
        median=percentile_fen(amounts, 50),
        high=percentile_fen(amounts, high),
        responses=len(amounts),
    )


def _whole_yuan(fen: int) -> str:
    return f"{fen // 100:,}" if fen % 100 == 0 else format_grouped(fen)


def band_label(band: tuple[int, int | None]) -> str:
    """`5,000 – 10,000` (yuan): bands are whole yuan, so no decimals."""
    low, high = band
    if high is None:
        return f"≥ {_whole_yuan(low)}"
    return f"{_whole_yuan(low)} – {_whole_yuan(high)}"


def in_band(amount: int, band: tuple[int, int | None]) -> bool:
    low, high = band
    return amount >= low and (high is None or amount < high)


def amount_histogram(amounts: Iterable[int]) -> list[tuple[str, int]]:
    """How many amounts fall in each of `AMOUNT_BANDS`."""
    counts = Counter()
    for amount in amounts:
        for band in AMOUNT_BANDS:
            if in_band(amount, band):
                counts[band] += 1
                break
    return [(band_label(band), counts[band]) for band in AMOUNT_BANDS]


def apr_percentiles(competitors: Sequence[Competitor]) -> dict[int, Decimal]:
    return {p: percentile_rate([c.apr for c in competitors], p) for p in PERCENTILES}


def weighted_rating(competitors: Sequence[Competitor]) -> Decimal:
    """Average rating weighted by review count: what the market's customers say overall."""
    reviews = sum(c.reviews for c in competitors)
    if reviews == 0:
        return Decimal(0).quantize(_PERCENT)
    return (sum(c.rating * c.reviews for c in competitors) / reviews).quantize(
        _PERCENT, ROUND_HALF_UP
    )


@dataclass(frozen=True)
class Gap:
    """An opening the competitors leave.

    `kind` is amount_band, term, method, price or service; `subject` names the
    band, term, method or price range; `demand_share` is the percent of the
    target segments' people who want it (reviews held, for service); `offered_by`
    counts the competitors that serve it, out of `of`.
    """

    kind: str
    subject: str
    demand_share: Decimal | None
    offered_by: int
    of: int

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "demand_share": None if self.demand_share is None else str(self.demand_share),
            "offered_by": self.offered_by,
            "of": self.of,
        }


def _overlaps(c: Competitor, band: tuple[int, int | None]) -> bool:
    low, high = band
    return c.max_amount >= low and (high is None or c.min_amount < high)


def find_gaps(
    competitors: Sequence[Competitor],
    target: Sequence[SurveyResponse],
    apr_cap: Decimal,
) -> list[Gap]:
    """Where the target segments' demand is poorly served, and price points nobody holds.

    Amount bands and terms wanted by at least `GAP_DEMAND_SHARE` percent of the
    target people but served by at most `GAP_COVERAGE` of the competitors;
    repayment methods offered by at most that share; the widest stretch of APR
    under the cap with no competitor in it; and the share of reviews held by
    poorly rated lenders.
    """
    total = len(competitors)
    if total == 0:
        return []
    thin = GAP_COVERAGE * total
    gaps: list[Gap] = []
    people = len(target)
    for band in AMOUNT_BANDS:
        wanted = share(sum(1 for r in target if in_band(r.desired_amount, band)), people)
        offered = sum(1 for c in competitors if _overlaps(c, band))
        if wanted >= GAP_DEMAND_SHARE and offered <= thin:
            gaps.append(Gap("amount_band", band_label(band), wanted, offered, total))
    for term, count in sorted(Counter(r.desired_term for r in target).items()):
        wanted = share(count, people)
        offered = sum(1 for c in competitors if term in c.terms)
        if wanted >= GAP_DEMAND_SHARE and offered <= thin:
            gaps.append(Gap("term", str(term), wanted, offered, total))
    methods = Counter(m for c in competitors for m in set(c.methods))
    for method in ("annuity", "equal_principal", "interest_only", "bullet"):
        if methods[method] <= thin:
            gaps.append(Gap("method", method, None, methods[method], total))
    prices = sorted({c.apr for c in competitors if c.apr <= apr_cap})
    stretches = [(high - low, low, high) for low, high in pairwise(prices)]
    if stretches:
        _, low, high = max(stretches)
        gaps.append(Gap("price", f"{low}% – {high}%", None, 0, total))
    reviews = sum(c.reviews for c in competitors)
    poorly = [c for c in competitors if c.rating < SERVICE_RATING]
    if poorly and reviews:
        held = share(sum(c.reviews for c in poorly), reviews)
        gaps.append(Gap("service", f"rating < {SERVICE_RATING}", held, len(poorly), total))
    return gaps


@dataclass(frozen=True)
class MarketMonth:
    """One month of the market: new lending and balances in fen, M1+ delinquency in percent."""

    month: str
    volume: int
    balance: int
    delinquency: Decimal
