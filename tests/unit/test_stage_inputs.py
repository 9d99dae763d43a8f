"""Stage inputs: the shipped samples read cleanly; bad files are named by file and line."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from lendflow.domain.errors import BadInput
from lendflow.lifecycle.catalog import stage
from lendflow.lifecycle.inputs import (
    MAX_STORED_INPUT,
    CapturedInput,
    capture_inputs,
    read_charter,
    read_competitors,
    read_market,
    read_spec,
    read_survey,
)


def sample(stage_id: str, name: str) -> CapturedInput:
    captured = capture_inputs(stage(stage_id), {}, use_samples=True)
    return next(c for c in captured if c.name == name)


def edited(source: CapturedInput, text: str) -> CapturedInput:
    return dataclasses.replace(source, text=text)


def test_the_samples_describe_one_coherent_case() -> None:
    charter = read_charter(sample("charter", "charter"))
    segments = {s.code for s in charter.target_segments}
    survey = read_survey(sample("research", "survey"))
    assert len(survey) >= 300
    assert segments <= {r.segment for r in survey}
    assert len(read_competitors(sample("research", "competitors"))) == 15
    market = read_market(sample("research", "market"))
    assert (len(market), market[0].month, market[-1].month) == (36, "2023-01", "2025-12")
    assert read_spec(sample("design", "spec"), "anxin").pricing is not None


def test_capture_keeps_name_file_digest_and_text(tmp_path: Path) -> None:
    file = tmp_path / "charter.yaml"
    file.write_text("objective: x\n", encoding="utf-8")
    (captured,) = capture_inputs(stage("charter"), {"charter": file}, use_samples=False)
    record = captured.record()
    assert record["file"] == str(file) and record["content"] == "objective: x\n"
    assert record["sha256"] == hashlib.sha256(b"objective: x\n").hexdigest()
    assert not record["from_samples"]
    big = dataclasses.replace(captured, size=MAX_STORED_INPUT + 1)
    assert "content" not in big.record() and big.record()["reference"] == str(file.resolve())


def test_missing_inputs_are_named_unless_samples_fill_them(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="needs --input survey=FILE --input competitors=FILE"):
        capture_inputs(stage("research"), {}, use_samples=False)
    with pytest.raises(BadInput, match="stage research has no input 'surveys'"):
        capture_inputs(stage("research"), {"surveys": tmp_path}, use_samples=True)
    with pytest.raises(BadInput, match=r"nowhere\.csv: file not found"):
        capture_inputs(stage("research"), {"survey": tmp_path / "nowhere.csv"}, use_samples=True)


def test_a_csv_missing_a_column_is_named_at_line_one() -> None:
    survey = sample("research", "survey")
    header, _, rest = survey.text.partition("\n")
    broken = edited(survey, header.replace(",monthly_income", "") + "\n" + rest)
    with pytest.raises(
        BadInput, match=r"samples/survey\.csv: line 1: missing column monthly_income"
    ):
        read_survey(broken)


def test_a_non_numeric_income_is_named_by_line_and_column() -> None:
    survey = sample("research", "survey")
    lines = survey.text.splitlines()
    fields = lines[4].split(",")
    fields[6] = "八千"
    lines[4] = ",".join(fields)
    with pytest.raises(BadInput) as caught:
        read_survey(edited(survey, "\n".join(lines)))
    assert caught.value.message.startswith(
        "samples/survey.csv: line 5: monthly_income is not an amount: '八千'"
    )


def test_an_empty_file_is_refused() -> None:
    for source, read in (
        (sample("research", "survey"), read_survey),
        (sample("research", "market"), read_market),
        (sample("charter", "charter"), read_charter),
    ):
        with pytest.raises(BadInput, match=f"{source.file}: the file is empty"):
            read(edited(source, "  \n"))
    header_only = edited(
        sample("research", "competitors"), sample("research", "competitors").text.splitlines()[0]
    )
    with pytest.raises(BadInput, match="no rows after the header"):
        read_competitors(header_only)


def test_a_spec_with_an_unknown_field_is_named_by_line() -> None:
    spec = sample("design", "spec")
    text = spec.text.replace("kind: consumer\n", 'kind: consumer\nmarketing_budget: "5000"\n')
    line = text.splitlines().index('marketing_budget: "5000"') + 1
    with pytest.raises(BadInput) as caught:
        read_spec(edited(spec, text), "anxin")
    assert caught.value.message == (
        f"samples/product-spec.yaml: line {line}: marketing_budget: Extra inputs are not permitted"
    )


def test_a_spec_for_another_product_is_refused() -> None:
    with pytest.raises(BadInput, match="code: the spec is for product 'anxin', not 'other'"):
        read_spec(sample("design", "spec"), "other")


def test_competitor_and_market_rows_are_checked() -> None:
    rivals = sample("research", "competitors")
    bad = edited(rivals, rivals.text.replace("annuity|interest_only", "balloon", 1))
    with pytest.raises(BadInput, match=r"line 2: repayment_methods must be some of"):
        read_competitors(bad)
    market = sample("research", "market")
    gap = "\n".join(line for line in market.text.splitlines() if not line.startswith("2024-06"))
    with pytest.raises(BadInput, match="month 2024-07 does not follow 2024-05"):
        read_market(edited(market, gap))
