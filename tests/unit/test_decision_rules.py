"""Decision tables: conditions, hit policies, and refusal of bad tables at load."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendflow.config.credit_models import compile_text, load_file, packaged_folder
from lendflow.domain.affordability import debt_to_income, largest_affordable
from lendflow.domain.errors import Problems
from lendflow.domain.pricing import capped_rate
from lendflow.domain.rules import NO_RULE, DecisionTable

HEAD = "kind: decision_table\ncode: policy\nversion: 1\ngrades: [A, B, C]\n"


def table(text: str) -> DecisionTable:
    model = compile_text(HEAD + text, "tables/t.yaml")
    assert isinstance(model, DecisionTable)
    return model


def facts(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "score": 600, "dti": Decimal("30"), "age": 30, "requested_amount": 1_000_000,
        "product": "cash-easy", "exposure": 0, "prior_write_off": False, "blocklisted": False,
        "employment": "salaried", "worst_prior_dpd": 0,
    }  # fmt: skip
    return {**base, **changes}


def test_first_hit_takes_the_first_matching_rule_in_order() -> None:
    t = table(
        "rules:\n"
        "  - {when: {blocklisted: true}, outcome: reject, reasons: [BLOCKLISTED]}\n"
        "  - {when: {score: '< 580'}, outcome: reject, reasons: [SCORE_TOO_LOW]}\n"
        "  - {when: {score: '[580..620)'}, outcome: approve, grade: C, max_amount: '5000.00'}\n"
        "  - {when: {score: '>= 620'}, outcome: approve, grade: A}\n"
    )
    assert t.evaluate(facts(score=579)).reasons == ("SCORE_TOO_LOW",)
    hit = t.evaluate(facts(score=580))
    assert (hit.outcome, hit.grade, hit.max_amount, hit.rules) == ("approve", "C", 500_000, (3,))
    assert t.evaluate(facts(score=620)).grade == "A"
    assert t.evaluate(facts(score=700, blocklisted=True)).outcome == "reject"


def test_collect_keeps_every_reason_and_the_strictest_outcome_grade_and_cap() -> None:
    t = table(
        "hit_policy: collect\nrules:\n"
        "  - {when: {score: '>= 600'}, outcome: approve, grade: A, max_amount: '20000'}\n"
        "  - {when: {dti: '> 25'}, outcome: approve, grade: B, max_amount: '8000'}\n"
        "  - {when: {requested_amount: '> 5000.00'}, outcome: refer, reasons: [LARGE]}\n"
    )
    hit = t.evaluate(facts())
    assert (hit.outcome, hit.grade, hit.max_amount) == ("refer", "B", 800_000)
    assert hit.reasons == ("LARGE",)
    assert hit.rules == (1, 2, 3)


def test_nothing_matching_goes_to_a_person_never_to_approval() -> None:
    t = table("rules:\n  - {when: {score: '>= 900'}, outcome: approve, grade: A}\n")
    hit = t.evaluate(facts())
    assert (hit.outcome, hit.reasons) == ("refer", (NO_RULE,))


def test_ranges_and_lists() -> None:
    t = table(
        "rules:\n"
        "  - {when: {age: '(20..25]', employment: [student, freelance]}, outcome: refer,"
        " reasons: [YOUNG]}\n"
    )
    assert t.evaluate(facts(age=25, employment="student")).reasons == ("YOUNG",)
    assert t.evaluate(facts(age=20, employment="student")).reasons == (NO_RULE,)
    assert t.evaluate(facts(age=22, employment="salaried")).reasons == (NO_RULE,)


def _problems(text: str) -> list[str]:
    with pytest.raises(Problems) as caught:
        compile_text(HEAD + text, "tables/t.yaml")
    return caught.value.problems


def test_unknown_input_is_refused_with_the_rule_and_field() -> None:
    problems = _problems("rules:\n  - {when: {scroe: '< 500'}, outcome: reject, reasons: [LOW]}\n")
    assert problems[0].startswith("tables/t.yaml: rules[0].when.scroe: unknown input (known:")


def test_wrong_types_in_cells_are_refused() -> None:
    problems = _problems(
        "rules:\n"
        "  - {when: {blocklisted: 'yes'}, outcome: reject, reasons: [X_Y]}\n"
        "  - {when: {score: [500, 600]}, outcome: reject, reasons: [X_Y]}\n"
        "  - {when: {dti: '< lots'}, outcome: reject, reasons: [X_Y]}\n"
        "  - {when: {requested_amount: '> 10.001'}, outcome: reject, reasons: [X_Y]}\n"
        "  - {when: {score: '[600..500]'}, outcome: reject, reasons: [X_Y]}\n"
    )
    assert problems == [
        "tables/t.yaml: rules[0].when.blocklisted: expected true or false, got 'yes'",
        "tables/t.yaml: rules[1].when.score: expected a comparison like '< 580' or a range"
        " '[1..5)', got [500, 600]",
        "tables/t.yaml: rules[2].when.dti: 'lots' is not a number",
        "tables/t.yaml: rules[3].when.requested_amount: requested_amount has more than two"
        " decimal places: 10.001",
        "tables/t.yaml: rules[4].when.score: range [600..500] ends below where it starts",
    ]


def test_outputs_are_checked() -> None:
    problems = _problems(
        "rules:\n"
        "  - {when: {}, outcome: approve}\n"
        "  - {when: {}, outcome: reject}\n"
        "  - {when: {}, outcome: approve, grade: Z}\n"
        "  - {when: {}, outcome: refer, reasons: [lower_case]}\n"
    )
    assert problems == [
        "tables/t.yaml: rules[0].grade: an approve rule needs a grade (pricing is by grade)",
        "tables/t.yaml: rules[1].reasons: a reject rule needs at least one reason code",
        "tables/t.yaml: rules[2].grade: 'Z' is not one of A, B, C",
        "tables/t.yaml: rules[3].reasons: 'lower_case' is not a reason code like SCORE_TOO_LOW",
    ]


def test_packaged_consumer_policy_reads_as_written() -> None:
    t = load_file(packaged_folder() / "consumer-rules-v1.yaml").model
    assert isinstance(t, DecisionTable)
    assert t.evaluate(facts(score=602)).grade == "C"
    assert t.evaluate(facts(score=540)).outcome == "refer"
    assert t.evaluate(facts(score=700, worst_prior_dpd=45)).reasons == ("SERIOUS_DELINQUENCY",)
    assert t.evaluate(facts(score=700, dti=Decimal("60.01"))).reasons == ("DTI_TOO_HIGH",)


def test_debt_to_income_in_percent_and_none_without_income() -> None:
    assert debt_to_income(800_000, Decimal(200_000)) == Decimal("25.00")
    assert debt_to_income(0, Decimal(1)) is None


@given(
    st.integers(1, 500),  # fen of instalment per 100 yuan of principal
    st.integers(0, 3_000_000),
    st.integers(100_000, 3_000_000),
    st.integers(1, 400),
)
def test_largest_affordable_is_the_top_of_the_grid_that_fits(
    per_hundred: int, debt: int, income: int, steps: int
) -> None:
    minimum, step = 100_000, 10_000
    requested = minimum + steps * step

    def instalment(principal: int) -> Decimal:
        return Decimal(principal * per_hundred) / 10_000

    limit = Decimal(50)
    found = largest_affordable(
        requested=requested, minimum=minimum, step=step, income=income,
        other_obligations=Decimal(debt), limit_percent=limit, monthly_instalment=instalment,
    )  # fmt: skip
    room = Decimal(income) * limit / 100 - debt
    fitting = [p for p in range(minimum, requested + 1, step) if instalment(p) <= room]
    assert found == (max(fitting) if fitting and room > 0 else None)


@given(st.integers(1000, 3600), st.integers(1000, 3000), st.integers(0, 600))
def test_capped_rate_is_the_highest_hundredth_under_the_cap(
    wanted_bp: int, lowest_bp: int, fees_bp: int
) -> None:
    wanted, lowest = Decimal(wanted_bp) / 100, Decimal(min(lowest_bp, wanted_bp)) / 100
    cap = Decimal(24)

    def apr(rate: Decimal) -> Decimal:
        return rate * Decimal("1.07") + Decimal(fees_bp) / 100

    got = capped_rate(wanted, lowest, cap, apr)
    candidates = [
        Decimal(bp) / 100
        for bp in range(int(lowest * 100), int(wanted * 100) + 1)
        if apr(Decimal(bp) / 100) <= cap
    ]
    assert got == (max(candidates) if candidates else None)


def test_a_product_naming_missing_models_or_unpriced_grades_is_refused(tmp_path: Path) -> None:
    from lendflow.config.product_spec import example_product_paths
    from lendflow.products.catalogue import check_product_file

    text = next(p for p in example_product_paths() if p.stem == "cash-easy").read_text("utf-8")
    spec = tmp_path / "cash-easy.yaml"
    spec.write_text(
        text.replace("challenger: consumer-v2", "challenger: consumer-v9")
        .replace(' E: "18.00"', "")
        .replace(", E}", "}"),
        encoding="utf-8",
    )
    problems = check_product_file(spec).problems
    assert problems[0].startswith(
        f"{spec}: challenger: no scorecard or decision table 'consumer-v9'"
    )
    assert problems[1] == f"{spec}: rate.by_grade: grade E of consumer-rules-v1 has no rate"
