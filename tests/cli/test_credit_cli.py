"""The risk desk at the command line: automated review, the queue, scorecards, the report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")


@pytest.fixture
def desk(lendflow, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_DECISIONING", "automated")
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    assert (
        lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05").exit_code == 0
    )
    return lendflow


def apply(desk, serial: int, income: str, extra: str = "") -> int:  # type: ignore[no-untyped-def]
    national_id = sample_national_id(date(2004, 6, 1), serial)
    result = desk(
        f"loan apply --consent all --product cash-easy --name 赵六 --id-number {national_id}"
        f" --phone 13812345678 --monthly-income {income} --amount 10000 --term 6"
        f" --on 2026-01-10 {extra}"
    )
    assert result.exit_code == 0, result.stderr
    return int(result.stdout.strip())


def test_review_queue_and_a_risk_officers_decision(desk) -> None:  # type: ignore[no-untyped-def]
    loan_id = apply(desk, 801, "4500", "--employment freelance")
    result = desk(f"loan review {loan_id} --on 2026-01-10")
    assert result.stdout.strip() == f"loan {loan_id} is under_review"
    queue = json.loads(desk("queue list --as risk --on 2026-01-12 --json").stdout)
    assert queue[0]["id"] == loan_id and queue[0]["waiting_days"] == 2
    assert queue[0]["reasons"] == ["SCORE_MARGINAL"]
    assert "SCORE_MARGINAL" in desk("queue list --as risk --on 2026-01-12").stdout
    refused = desk(f"loan approve {loan_id} --note ok --on 2026-01-12")
    assert refused.exit_code == 1 and "may not approve loans" in refused.stderr
    no_note = desk(f"loan approve {loan_id} --as risk --on 2026-01-12")
    assert no_note.exit_code == 2
    assert "give --note" in no_note.stderr and len(no_note.stderr.strip().splitlines()) == 1
    done = desk(f"loan approve {loan_id} --as risk --note 'income verified' --on 2026-01-12")
    assert done.exit_code == 0, done.stderr
    decisions = json.loads(desk(f"loan show {loan_id} --json --on 2026-01-12").stdout)[
        "credit_decisions"
    ]
    assert [d["role"] for d in decisions] == ["champion", "challenger", "manual"]


def test_scorecard_show_lists_every_bins_points(desk) -> None:  # type: ignore[no-untyped-def]
    view = json.loads(desk("scorecard show consumer-v1 --json").stdout)
    age = view["characteristics"][0]
    assert age["bins"] == [
        {"bin": "[-∞, 23)", "points": 70},
        {"bin": "[23, 30)", "points": 79},
        {"bin": "[30, 45)", "points": 88},
        {"bin": "[45, ∞)", "points": 86},
    ]
    assert view["scaling"]["factor"] == "28.8539"
    assert "worst days past due with us" in desk("scorecard show consumer-v1").stdout
    assert "SCORE_TOO_LOW" in desk("scorecard show consumer-rules-v1").stdout


def test_a_bad_scorecard_file_is_refused_with_file_and_path(desk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "card.yaml"
    bad.write_text(
        "kind: scorecard\ncode: card\nversion: 1\ncharacteristics:\n"
        "  - {name: age, input: age, reason: AGE, bins: [{upper: 25, points: 1},"
        " {lower: 26, points: 2}]}\n",
        encoding="utf-8",
    )
    result = desk(f"scorecard check {bad}")
    assert result.exit_code == 2
    assert (
        f"{bad}: characteristics[0].bins[1]: values from 25 to 26 fall in no bin" in result.stderr
    )


def test_challenger_report_and_blocklist(desk) -> None:  # type: ignore[no-untyped-def]
    for serial, income in ((802, "9000"), (803, "30000")):
        desk(f"loan review {apply(desk, serial, income)} --on 2026-01-10")
    report = json.loads(desk("decisions compare --as risk --json").stdout)
    assert report["compared"] == 2 and report["challenger"] == "consumer-v2 v1"
    bad_range = desk("decisions compare --as risk --from 2026-02-01 --to 2026-01-01")
    assert bad_range.exit_code == 2 and "is before --from" in bad_range.stderr
    blocked = sample_national_id(date(2004, 6, 1), 804)
    assert (
        desk(f"blocklist add --national-id {blocked} --reason FRAUD_CONFIRMED --as risk").exit_code
        == 0
    )
    listed = json.loads(desk("blocklist list --as risk --json").stdout)
    assert [e["reason"] for e in listed] == ["FRAUD_CONFIRMED"]
    assert blocked not in json.dumps(listed)
    loan_id = apply(desk, 804, "9000")
    desk(f"loan review {loan_id} --on 2026-01-10")
    shown = json.loads(desk(f"loan show {loan_id} --json --on 2026-01-10").stdout)
    assert (shown["state"], shown["reason_code"]) == ("rejected", "BLOCKLISTED")
