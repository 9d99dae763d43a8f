"""SVG charts: well-formed, reproducible byte for byte, text escaped, gaps honoured."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from lendflow.rendering.charts import Band, Series, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def lending() -> str:
    return line_chart(
        "新增放款 New lending",
        MONTHS,
        [
            Series("actual", [10, 11, 12, 13, 12, 14, None, None, None, None, None, None]),
            Series("forecast", [None] * 5 + [14, 15, 16, 17, 18, 19, 20], dashed=True),
        ],
        band=Band(
            "95%", [None] * 6 + [14, 14, 15, 15, 16, 16], [None] * 6 + [16, 17, 18, 19, 20, 22]
        ),
    )


def test_a_line_chart_is_well_formed_svg_with_one_line_per_unbroken_stretch() -> None:
    root = ET.fromstring(lending())
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text == "新增放款 New lending"
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2
    assert lines[1].get("stroke-dasharray") == "5 3"
    assert len(lines[0].get("points").split()) == 6  # the gap ends the actual line
    assert len(root.findall(f"{SVG}polygon")) == 1  # the interval band


def test_the_same_chart_twice_is_the_same_bytes() -> None:
    assert lending() == lending()
    assert "timestamp" not in lending().lower()


def test_text_is_escaped() -> None:
    svg = bar_chart("<script>alert(1)</script>", ["a&b", "<c>"], [1, 2])
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "a&b" in labels and "<c>" in labels


def test_a_bar_chart_has_a_bar_per_value_and_highlights_the_chosen() -> None:
    root = ET.fromstring(bar_chart("APR", ["a", "b", "c"], [3.65, 18.0, 23.99], highlight=[1]))
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 3
    assert len({b.get("fill") for b in bars}) == 2
    heights = [float(b.get("height")) for b in bars]
    assert heights == sorted(heights)


def test_nothing_to_draw_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing to draw"):
        line_chart("empty", MONTHS, [Series("x", [None] * 12)])
    with pytest.raises(ValueError, match="one value per label"):
        bar_chart("short", ["a", "b"], [1])
