"""`lendflow cob run`: bad input is refused in one line before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def desk(lendflow, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    return lendflow


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_date_far_in_the_future_is_refused(desk) -> None:  # type: ignore[no-untyped-def]
    result = desk("cob run --as-of 2099-01-01")
    assert result.exit_code == 2
    assert "cannot close 2099-01-01: it is after today" in one_line(result)


def test_a_range_that_ends_before_it_starts_is_refused(desk) -> None:  # type: ignore[no-untyped-def]
    result = desk("cob run --as-of 2026-03-05 --to 2026-03-01")
    assert result.exit_code == 2
    assert "the range ends (2026-03-01) before it starts (2026-03-05)" in one_line(result)


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("steps: [delinquency, teleport]\n", "steps[1]"),
        ("steps: [penalty, delinquency, non_accrual]\n", "penalty needs non_accrual before it"),
        ("chunk_size: 0\n", "chunk_size"),
        ("parallel_chunks: 0\n", "parallel_chunks"),
        ("notice_days: [0, 7]\n", "notice days must be"),
        ("steps: [delinquency\n", "line"),
    ],
)
def test_a_malformed_step_configuration_is_refused(
    desk, tmp_path: Path, yaml: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "cob.yaml"
    config.write_text(yaml, encoding="utf-8")
    result = desk(f"cob run --as-of 2026-03-01 --config {config}")
    assert result.exit_code == 2
    line = one_line(result)
    assert str(config) in line and message in line


def test_an_operator_without_the_right_is_refused(desk) -> None:  # type: ignore[no-untyped-def]
    result = desk("cob run --as-of 2026-03-01 --as auditor")
    assert result.exit_code == 1
    assert "may not run close of business" in one_line(result)


def test_the_run_report_shows_where_the_event_chain_was_anchored(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import UTC, date, datetime

    from lendflow.cli.cob import _print_result
    from lendflow.close_of_business.results import CobRun, PortfolioCounts, SweepCounts
    from lendflow.workspace.anchors import ChainAnchor

    anchor = ChainAnchor(
        event_id=812,
        hash="ab" * 32,
        business_date=date(2026, 3, 20),
        recorded_at=datetime(2026, 3, 20, 16, 30, tzinfo=UTC),
        key_id="0123456789abcdef",
        keyed_from=1,
    )
    after = PortfolioCounts(buckets={"M0": 1}, classes={"normal": 1})
    run = CobRun.of(date(2026, 3, 20), date(2026, 3, 20), 1, SweepCounts(), after, anchor)
    _print_result(run)
    out = capsys.readouterr().out
    assert "  event chain anchored: event 812 abababababababab…\n" in out
    assert "anchor:" not in out
    assert run.model_dump(mode="json")["anchor"]["business_date"] == "2026-03-20"
