"""The CLI for stages 5–7: launch, a review, an improvement, and the next version's spec.

Stages 1–4 are stood in for (their CLI walk is tested beside this); the stage
commands here run the real flows under the shared Prefect test harness.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lendflow.domain.identity import sample_national_id
from lendflow.flows.runtime import workspace
from tests.service.lifecycle_walk import walk_to_launch

BORN = date(1988, 8, 8)


@pytest.fixture
def lendflow(lendflow):  # type: ignore[no-untyped-def]
    """The shared command runner, on an initialised workspace."""
    assert lendflow("init").exit_code == 0
    walk_to_launch(workspace())
    return lendflow


def test_launch_review_and_improve_from_the_command_line(lendflow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    launched = lendflow("stage run anxin launch --samples --as pm --on 2026-06-15")
    assert launched.exit_code == 0, launched.stderr
    assert "channels (samples/channels.csv), campaigns (samples/campaigns.yaml)" in launched.stdout
    assert "gate criteria: 4 of 4 passed" in launched.stdout
    live = lendflow("gate decide anxin launch --decision go --as committee1 --on 2026-06-15")
    assert live.stdout.strip() == (
        "anxin v1: go at the launch gate by committee1 on 2026-06-15; anxin is now live"
    )
    material = tmp_path / "education.md"
    written = lendflow(f"stage education anxin --locale en --format md --out {material} --as ops")
    assert written.exit_code == 0, written.stderr
    assert "First loan: 30 days interest-free" in material.read_text(encoding="utf-8")

    stranger = sample_national_id(BORN, 5)
    refused = lendflow(
        "loan apply --consent all --product anxin --name 李四 --id-number"
        f" {sample_national_id(BORN, 4)} --phone 13800001111 --monthly-income 9000"
        f" --amount 8000 --term 6 --referrer {stranger} --on 2026-07-01 --as ops"
    )
    assert (refused.exit_code, refused.error()) == (
        2,
        "error: referrer: nobody with that national ID is a customer",
    )

    reviewed = lendflow("stage run anxin operate --as pm --on 2026-07-31")
    assert reviewed.exit_code == 0, reviewed.stderr
    assert "anxin is live, waiting at the operate gate" in reviewed.stdout
    gate = lendflow("gate show anxin --as committee1")
    assert "anxin v1 (live) waits at the operate gate" in gate.stdout
    kept = lendflow("gate decide anxin operate --decision go --as committee2 --on 2026-08-01")
    assert kept.stdout.strip().endswith("anxin is now live")
    held = lendflow("gate decide anxin operate --decision hold --note x --as committee2")
    assert held.exit_code == 1

    improved = lendflow("stage run anxin improve --samples --as pm --on 2026-08-12 --json")
    assert improved.exit_code == 0, improved.stderr
    run = improved.json()["run"]
    opened = lendflow(
        "gate decide anxin improve --decision recycle --to design --as committee1 --on 2026-08-13"
    )
    assert opened.stdout.splitlines() == [
        "anxin v1: recycle to design at the improve gate by committee1 on 2026-08-13;"
        " anxin is now live",
        "anxin v2 opened in design",
    ]
    spec = tmp_path / "anxin-v2.yaml"
    exported = lendflow(f"product spec anxin --version 2 --out {spec} --as pm")
    assert exported.stdout.strip() == (
        f"wrote {spec}: the spec proposed for anxin v2 by improvement run {run}"
    )
    assert "15.60" in spec.read_text(encoding="utf-8")
    runs = lendflow("stage show anxin operate --as auditor --json").json()
    assert (runs["version"], [r["status"] for r in runs["runs"]]) == (1, ["succeeded"])
    report = tmp_path / "review.html"
    assert lendflow(f"stage report anxin operate --out {report} --as auditor").exit_code == 0
    assert "运营管理与监控" in report.read_text(encoding="utf-8")
