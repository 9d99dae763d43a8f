"""Market trend and forecast: a log-linear trend with a prediction interval.

A monthly market series (new lending, balances) grows roughly by a constant
percentage, so its logarithm is fitted with a straight line by least squares;
the slope is the monthly growth rate, and the classic prediction interval of a
regression, taken back out of logarithms, gives each forecast month its range.

This module computes in binary floating point on purpose: a forecast is an
estimate, not money owed, and logarithms have no exact decimal form. Figures
leave here rounded (forecast amounts to whole fen, rates to a hundredth of a
percent) so reports are stable; what is owed or charged is never computed here.
The year-on-year growth of the history, by contrast, is exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import NormalDist

_PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class Trend:
    """A least-squares line through log(value) against the month number 0, 1, …"""

    intercept: float
    slope: float
    residual_sd: float
    points: int
    mean_x: float
    sxx: float

    @property
    def monthly_growth(self) -> Decimal:
        """Trend growth per month, percent."""
        return _percent(math.expm1(self.slope))

    @property
    def annual_growth(self) -> Decimal:
        """Trend growth over twelve months, percent."""
        return _percent(math.expm1(12 * self.slope))


@dataclass(frozen=True)
class ForecastPoint:
    """One forecast month: `step` months after the last observed, amounts in fen."""

    step: int
    expected: int
    low: int
    high: int

    def as_dict(self) -> dict[str, int]:
        return {"step": self.step, "expected": self.expected, "low": self.low, "high": self.high}


def _percent(ratio: float) -> Decimal:
    return Decimal(repr(ratio * 100)).quantize(_PERCENT, ROUND_HALF_UP)


def fit_trend(values: Sequence[int]) -> Trend:
    """Fit the log-linear trend of a positive monthly series (at least three months)."""
    if len(values) < 3:
        raise ValueError("a trend needs at least three months")
    if any(v <= 0 for v in values):
        raise ValueError("a log-linear trend needs every value above zero")
    n = len(values)
    ys = [math.log(v) for v in values]
    mean_x = (n - 1) / 2
    mean_y = math.fsum(ys) / n
    sxx = math.fsum((x - mean_x) ** 2 for x in range(n))
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in enumerate(ys))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    residuals = [y - (intercept + slope * x) for x, y in enumerate(ys)]
    residual_sd = math.sqrt(math.fsum(r * r for r in residuals) / (n - 2))
    return Trend(intercept, slope, residual_sd, n, mean_x, sxx)


def student_t_quantile(probability: float, degrees: int) -> float:
    """The quantile of Student's t distribution, by the Cornish–Fisher expansion.

    Four terms of the expansion around the normal quantile are accurate to about
    0.001 from 5 degrees of freedom up (t(0.975, 34) = 2.0322), which is far
    finer than any market forecast; it saves a statistics library for one number.
    """
    if degrees < 1:
        raise ValueError("degrees of freedom must be at least 1")
    z = NormalDist().inv_cdf(probability)
    v = float(degrees)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / v + g2 / v**2 + g3 / v**3 + g4 / v**4


def forecast(trend: Trend, months: int = 12, level: float = 0.95) -> list[ForecastPoint]:
    """The next `months` months: the trend value and its prediction interval at `level`."""
    if not 0 < level < 1:
        raise ValueError("the interval level must lie strictly between 0 and 1")
    t = student_t_quantile(0.5 + level / 2, trend.points - 2)
    points = []
    for step in range(1, months + 1):
        x = trend.points - 1 + step
        centre = trend.intercept + trend.slope * x
        spread = (
            t
            * trend.residual_sd
            * math.sqrt(1 + 1 / trend.points + (x - trend.mean_x) ** 2 / trend.sxx)
        )
        points.append(
            ForecastPoint(
                step=step,
                expected=round(math.exp(centre)),
                low=round(math.exp(centre - spread)),
                high=round(math.exp(centre + spread)),
            )
        )
    return points


def year_on_year(values: Sequence[int]) -> Decimal | None:
    """The last twelve months over the twelve before them, growth in percent (exact).

    None when the series is shorter than two years.
    """
    if len(values) < 24:
        return None
    recent = sum(values[-12:])
    before = sum(values[-24:-12])
    if before == 0:
        return None
    growth = Fraction(recent - before, before) * 100
    return (Decimal(growth.numerator) / Decimal(growth.denominator)).quantize(
        _PERCENT, ROUND_HALF_UP
    )


def average_rate(rates: Sequence[Decimal]) -> Decimal:
    """The plain average of rates in percent, to a hundredth."""
    if not rates:
        raise ValueError("an average of nothing is undefined")
    return (sum(rates, Decimal(0)) / len(rates)).quantize(_PERCENT, ROUND_HALF_UP)
