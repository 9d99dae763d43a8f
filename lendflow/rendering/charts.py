"""Small SVG charts for stage reports: lines with an optional band, and bars.

Hand-written rather than drawn with matplotlib: a report needs three kinds of
chart, and a few dozen lines of SVG keep the output byte-for-byte reproducible
(no timestamps, ids or font subsets that change between runs or versions), embed
inline in HTML and PDF, and spare every stage run a heavy import.

Chart values are floats: a chart positions marks on a page, it never computes
money. Callers pass a formatter for the axis labels (yuan, percent, …).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH = 640
HEIGHT = 340
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 44, 84
FONT = "Noto Sans CJK SC, WenQuanYi Micro Hei, PingFang SC, Microsoft YaHei, sans-serif"
COLOURS = ("#1f5fa8", "#d9822b", "#2e8540", "#a83232", "#6b4fa8")
BAND_COLOUR = "#1f5fa8"
GRID = "#d9d9d9"
INK = "#333333"
MAX_X_LABELS = 12
MAX_BARS_LABELLED = 24

Number = float | int
Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """A named line; None leaves a gap (e.g. history before a forecast starts)."""

    name: str
    values: Sequence[Number | None]
    dashed: bool = False


@dataclass(frozen=True)
class Band:
    """A shaded range between two lines, such as a forecast's prediction interval."""

    name: str
    low: Sequence[Number | None]
    high: Sequence[Number | None]


def plain(value: float) -> str:
    """An axis label with thousands separators and no needless decimals."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _n(value: float) -> str:
    """A coordinate, to one decimal: enough on a 640-wide page, and stable text."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover


def _scale(lowest: float, highest: float) -> tuple[float, float, list[float]]:
    """Axis ends and tick values on round numbers that cover [lowest, highest]."""
    if highest == lowest:
        pad = abs(highest) * 0.1 or 1.0
        lowest, highest = lowest - pad, highest + pad
    step = _nice_step(highest - lowest)
    start = math.floor(lowest / step) * step
    end = math.ceil(highest / step) * step
    count = round((end - start) / step)
    return start, end, [start + i * step for i in range(count + 1)]


class _Canvas:
    def __init__(self, title: str, labels: Sequence[str], lowest: float, highest: float) -> None:
        self.labels = list(labels)
        self.bottom, self.top, self.ticks = _scale(lowest, highest)
        self.parts: list[str] = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
            f' width="{WIDTH}" height="{HEIGHT}" font-family={quoteattr(FONT)}'
            f' font-size="11" role="img">',
            f"<title>{escape(title)}</title>",
            f'<text x="{WIDTH / 2:.1f}" y="20" text-anchor="middle" font-size="14"'
            f' fill="{INK}">{escape(title)}</text>',
        ]

    @property
    def plot_width(self) -> float:
        return WIDTH - LEFT - RIGHT

    @property
    def plot_height(self) -> float:
        return HEIGHT - TOP - BOTTOM

    def y(self, value: float) -> float:
        share = (value - self.bottom) / (self.top - self.bottom)
        return TOP + self.plot_height * (1 - share)

    def axes(self, y_format: Formatter, y_label: str) -> None:
        for tick in self.ticks:
            y = self.y(tick)
            self.parts.append(
                f'<line x1="{LEFT}" y1="{_n(y)}" x2="{WIDTH - RIGHT}" y2="{_n(y)}"'
                f' stroke="{GRID}" stroke-width="1"/>'
            )
            self.parts.append(
                f'<text x="{LEFT - 6}" y="{_n(y + 4)}" text-anchor="end" fill="{INK}">'
                f"{escape(y_format(tick))}</text>"
            )
        self.parts.append(
            f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}"'
            f' y2="{HEIGHT - BOTTOM}" stroke="{INK}" stroke-width="1"/>'
        )
        if y_label:
            self.parts.append(
                f'<text x="14" y="{_n(TOP + self.plot_height / 2)}" text-anchor="middle"'
                f' fill="{INK}" transform="rotate(-90 14 {_n(TOP + self.plot_height / 2)})">'
                f"{escape(y_label)}</text>"
            )

    def x_labels(self, x_of: Callable[[int], float], most: int = MAX_X_LABELS) -> None:
        """Labels under the axis, slanted; every n-th when there are more than `most`."""
        every = max(1, math.ceil(len(self.labels) / most))
        for i, label in enumerate(self.labels):
            if i % every:
                continue
            x = x_of(i)
            self.parts.append(
                f'<text x="{_n(x)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="end" fill="{INK}"'
                f' transform="rotate(-30 {_n(x)} {HEIGHT - BOTTOM + 16})">{escape(label)}</text>'
            )

    def legend(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """(name, colour, kind) for each entry; kind is line, dashed or area."""
        x = WIDTH - RIGHT
        for name, colour, kind in reversed(entries):
            width = 9 + 7 * len(name) + (6 * sum(1 for ch in name if ord(ch) > 0x2E80))
            x -= width + 26
            if kind == "area":
                mark = (
                    f'<rect x="{_n(x)}" y="28" width="18" height="8" fill="{colour}"'
                    ' fill-opacity="0.18"/>'
                )
            else:
                dash = ' stroke-dasharray="5 3"' if kind == "dashed" else ""
                mark = (
                    f'<line x1="{_n(x)}" y1="32" x2="{_n(x + 18)}" y2="32" stroke="{colour}"'
                    f' stroke-width="2"{dash}/>'
                )
            self.parts.append(mark)
            self.parts.append(f'<text x="{_n(x + 22)}" y="36" fill="{INK}">{escape(name)}</text>')

    def svg(self) -> str:
        return "".join([*self.parts, "</svg>"])


def _values(*groups: Sequence[Number | None]) -> list[float]:
    return [float(v) for group in groups for v in group if v is not None]


def _runs(values: Sequence[Number | None]) -> list[list[tuple[int, float]]]:
    """Unbroken stretches of (index, value), split where a value is missing."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, float(value)))
    return [run for run in runs if run]


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    band: Band | None = None,
    y_format: Formatter = plain,
    y_label: str = "",
) -> str:
    """Lines over shared x labels, with an optional shaded band beneath them."""
    data = _values(*(s.values for s in series), *((band.low, band.high) if band else ()))
    if not data or not labels:
        raise ValueError(f"chart {title!r} has nothing to draw")
    canvas = _Canvas(title, labels, min(data), max(data))
    canvas.axes(y_format, y_label)
    step = canvas.plot_width / max(len(labels) - 1, 1)

    def x_of(i: int) -> float:
        return LEFT + i * step

    legend: list[tuple[str, str, str]] = []
    if band is not None:
        paired = [
            (i, float(lo), float(hi))
            for i, (lo, hi) in enumerate(zip(band.low, band.high, strict=True))
            if lo is not None and hi is not None
        ]
        if paired:
            upper = " ".join(f"{_n(x_of(i))},{_n(canvas.y(hi))}" for i, _, hi in paired)
            lower = " ".join(f"{_n(x_of(i))},{_n(canvas.y(lo))}" for i, lo, _ in reversed(paired))
            canvas.parts.append(
                f'<polygon points="{upper} {lower}" fill="{BAND_COLOUR}" fill-opacity="0.18"'
                ' stroke="none"/>'
            )
            legend.append((band.name, BAND_COLOUR, "area"))
    for number, line in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        for run in _runs(line.values):
            points = " ".join(f"{_n(x_of(i))},{_n(canvas.y(v))}" for i, v in run)
            canvas.parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}"'
                f' stroke-width="2"{dash}/>'
            )
        legend.append((line.name, colour, "dashed" if line.dashed else "line"))
    canvas.x_labels(x_of)
    canvas.legend(legend)
    return canvas.svg()


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    *,
    y_format: Formatter = plain,
    y_label: str = "",
    highlight: Sequence[int] = (),
) -> str:
    """One bar per label from zero; `highlight` picks bars drawn in the accent colour."""
    if not values or len(values) != len(labels):
        raise ValueError(f"chart {title!r} needs one value per label")
    data = [float(v) for v in values]
    canvas = _Canvas(title, labels, min(0.0, *data), max(0.0, *data))
    canvas.axes(y_format, y_label)
    slot = canvas.plot_width / len(labels)
    width = slot * 0.7
    zero = canvas.y(0.0)
    marked = set(highlight)
    for i, value in enumerate(data):
        top = canvas.y(value)
        colour = COLOURS[1] if i in marked else COLOURS[0]
        canvas.parts.append(
            f'<rect x="{_n(LEFT + i * slot + (slot - width) / 2)}" y="{_n(min(top, zero))}"'
            f' width="{_n(width)}" height="{_n(abs(zero - top))}" fill="{colour}"/>'
        )
    canvas.x_labels(lambda i: LEFT + i * slot + slot / 2 + 4, most=MAX_BARS_LABELLED)
    return canvas.svg()
