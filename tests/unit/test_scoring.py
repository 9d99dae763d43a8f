"""Scorecards: standard scaling, hand-worked points, reasons, and refusal of bad files."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendflow.config.credit_models import compile_text, load_file, packaged_folder
from lendflow.domain.errors import BadInput, Problems
from lendflow.domain.scoring import NumericBin, Scaling, Scorecard, coverage_problems, score

CONSUMER = packaged_folder() / "consumer-v1.yaml"


def applicant(**changes: object) -> dict[str, object]:
    facts: dict[str, object] = {
        "age": 35,
        "monthly_income": 900_000,  # 9,000.00 yuan
        "monthly_debt": 0,
        "dti": Decimal("20.34"),
        "employment": "salaried",
        "purpose": "consumption",
        "product": "cash-easy",
        "requested_amount": 2_000_000,
        "term": 12,
        "exposure": 0,
        "prior_loans": 0,
        "worst_prior_dpd": 0,
        "prior_write_off": False,
        "blocklisted": False,
    }
    return {**facts, **changes}


def test_standard_scaling_600_points_at_50_to_1_and_20_to_double() -> None:
    scaling = Scaling()
    # factor = 20 / ln 2, offset = 600 − factor · ln 50
    assert scaling.factor.quantize(Decimal("0.0001")) == Decimal("28.8539")
    assert scaling.offset.quantize(Decimal("0.0001")) == Decimal("487.1229")
    assert scaling.odds_at(600) == 50
    assert scaling.odds_at(620) == 100
    assert scaling.odds_at(580) == 25
    # 602 points: odds 50 · 2^(2/20) = 53.5887, PD = 1 / 54.5887
    assert scaling.probability_of_default(602) == Decimal("0.018319")


def test_hand_worked_applicant_scores_exactly_the_points_of_the_card() -> None:
    """consumer-v1 has 7 characteristics, intercept 3.0; each attribute scores
    (woe·β + 3/7)·28.85390 + 487.12288/7, rounded half up:

    age 35            [30,45)   woe 0.25 β 0.9 → (0.225 + 0.428571)·28.8539 + 69.5890 = 88.447 → 88
    income 9,000      [8k,15k)  woe 0.30 β 1.0 → 21.0223 + 69.5890 = 90.611 → 91
    DTI 20.34 %       [20,35)   woe 0.15 β 1.1 → 17.1268 + 69.5890 = 86.716 → 87
    salaried                    woe 0.25 β 0.8 → 18.1368 + 69.5890 = 87.726 → 88
    consumption                 woe 0.05 β 0.5 → 13.0872 + 69.5890 = 82.676 → 83
    no loans with us  [-∞,1)    woe −0.10 β 0.7 → 10.3461 + 69.5890 = 79.935 → 80
    never late        [-∞,1)    woe 0.10 β 0.9 → 14.9628 + 69.5890 = 84.552 → 85
    total 602
    """
    card = load_file(CONSUMER).model
    assert isinstance(card, Scorecard)
    result = score(card, applicant())
    assert result.points() == {
        "age": 88,
        "monthly income": 91,
        "debt to income": 87,
        "employment": 88,
        "loan purpose": 83,
        "loans repaid with us": 80,
        "worst days past due with us": 85,
    }
    assert result.score == 602
    # points lost against each characteristic's best bin: history 92−80 = 12,
    # DTI 96−87 = 9, employment 96−88 = 8, income 98−91 = 7, purpose 85−83 = 2
    assert result.reasons() == (
        "LITTLE_HISTORY_WITH_US",
        "HIGH_DEBT_TO_INCOME",
        "EMPLOYMENT",
        "LOW_INCOME",
    )


def test_unknown_and_missing_values_never_earn_credit() -> None:
    card = load_file(CONSUMER).model
    assert isinstance(card, Scorecard)
    result = score(card, applicant(employment="astronaut", dti=None))
    lines = {line.name: line for line in result.lines}
    assert lines["employment"].bin == "other"
    assert lines["employment"].points == min(p for p in (96, 88, 82, 77, 69))
    assert lines["debt to income"].bin == "missing"
    assert lines["debt to income"].points == 57


def _problems(text: str) -> list[str]:
    with pytest.raises(Problems) as caught:
        compile_text(text, "cards/bad.yaml")
    return caught.value.problems


CARD_HEAD = "kind: scorecard\ncode: bad\nversion: 1\ncharacteristics:\n"


def test_a_gap_between_bins_is_refused_with_file_path_and_values() -> None:
    problems = _problems(
        CARD_HEAD + "  - {name: age, input: age, reason: AGE, bins: [{upper: 25, points: 1},"
        " {lower: 30, points: 2}]}\n"
    )
    assert problems == [
        "cards/bad.yaml: characteristics[0].bins[1]: values from 25 to 30 fall in no bin"
    ]


def test_overlapping_bins_are_refused() -> None:
    problems = _problems(
        CARD_HEAD + "  - {name: age, input: age, reason: AGE, bins: [{upper: 30, points: 1},"
        " {lower: 25, points: 2}]}\n"
    )
    assert problems == [
        "cards/bad.yaml: characteristics[0].bins[1]: starts at 25, inside bins[0] (ends 30)"
    ]


def test_open_ends_must_cover_the_whole_line() -> None:
    problems = _problems(
        CARD_HEAD + "  - {name: age, input: age, reason: AGE, bins: [{lower: 18, points: 1}]}\n"
    )
    assert problems == [
        "cards/bad.yaml: characteristics[0].bins[0]: values below 18 fall in no bin"
        " (omit its lower)"
    ]


def test_unknown_input_wrong_kind_and_missing_otherwise_are_all_reported_at_once() -> None:
    problems = _problems(
        CARD_HEAD
        + "  - {name: a, input: shoe_size, reason: SHOES, bins: [{points: 1}]}\n"
        + "  - {name: b, input: employment, reason: JOB, bins: [{upper: 3, points: 1}]}\n"
        + "  - {name: c, input: purpose, reason: WHY, bins: [{values: [travel], points: 1}]}\n"
    )
    assert problems[0].startswith("cards/bad.yaml: characteristics[0].input: unknown input")
    assert problems[1] == (
        "cards/bad.yaml: characteristics[1].bins[0]: employment is a category; list its values"
    )
    assert problems[2] == (
        "cards/bad.yaml: characteristics[2].otherwise: give points for values no bin lists"
    )


def test_a_value_in_two_category_bins_is_refused() -> None:
    problems = _problems(
        CARD_HEAD + "  - {name: c, input: purpose, reason: WHY, otherwise: {points: 0},"
        " bins: [{values: [travel], points: 1}, {values: [home, travel], points: 2}]}\n"
    )
    assert problems == ["cards/bad.yaml: characteristics[0].bins[1]: 'travel' is also in bins[0]"]


def test_wrong_types_are_refused_by_the_schema() -> None:
    problems = _problems(
        "kind: scorecard\ncode: bad\nversion: one\ncharacteristics:\n"
        "  - {name: a, input: age, reason: AGE, bins: [{points: many}]}\n"
    )
    assert any(p.startswith("cards/bad.yaml: version:") for p in problems)
    assert any(p.startswith("cards/bad.yaml: characteristics[0].bins[0].points:") for p in problems)


def test_woe_bins_need_the_models_intercept() -> None:
    problems = _problems(
        CARD_HEAD + "  - {name: a, input: age, reason: AGE, coefficient: '0.5',"
        " bins: [{woe: '0.1'}]}\n"
    )
    assert problems == [
        "cards/bad.yaml: characteristics[0].coefficient: the card needs model.intercept to use it"
    ]


def test_a_file_of_unknown_kind_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("kind: spreadsheet\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"x.yaml: kind: expected scorecard or decision_table"):
        load_file(path)


def test_every_packaged_model_loads() -> None:
    for path in sorted(packaged_folder().glob("*.yaml")):
        assert load_file(path).model.code == path.stem


cuts = st.lists(st.integers(-1000, 1000), min_size=0, max_size=6, unique=True).map(sorted)


@given(cuts, st.integers(-2000, 2000))
def test_bins_that_tile_the_line_place_every_value_in_exactly_one(
    points: list[int], value: int
) -> None:
    edges: list[int | None] = [None, *points, None]
    bins = [NumericBin(low, high, i, f"b{i}") for i, (low, high) in enumerate(pairwise(edges))]
    assert coverage_problems(bins) == []
    assert sum(b.holds(value) for b in bins) == 1


@given(
    st.integers(0, 99),
    st.integers(0, 60_000_00),
    st.sampled_from(["salaried", "student", "civil_servant", "pilot"]),
    st.integers(0, 5),
    st.integers(0, 400),
)
def test_a_score_is_the_sum_of_its_points_and_reasons_follow_the_points_lost(
    age: int, income: int, job: str, prior: int, dpd: int
) -> None:
    card = load_file(CONSUMER).model
    assert isinstance(card, Scorecard)
    result = score(
        card, applicant(age=age, monthly_income=income, employment=job, prior_loans=prior,
                        worst_prior_dpd=dpd)
    )  # fmt: skip
    assert result.score == sum(line.points for line in result.lines)
    low = sum(c.min_points for c in card.characteristics)
    high = sum(c.max_points for c in card.characteristics)
    assert low <= result.score <= high
    lost = [line.points_lost for line in result.lines]
    reasons = result.reasons()
    assert len(reasons) == min(4, sum(1 for x in lost if x > 0))
    by_reason = {line.reason: line.points_lost for line in result.lines}
    assert [by_reason[r] for r in reasons] == sorted((by_reason[r] for r in reasons), reverse=True)
