"""A product manager's walk through the CLI: draft → charter → research → design → build_test.

The stage commands run real flows, so this lives beside the flow tests and
shares their Prefect test harness.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def lendflow(lendflow):  # type: ignore[no-untyped-def]
    """The shared command runner, on an initialised workspace."""
    assert lendflow("init").exit_code == 0
    return lendflow


def test_a_product_walks_from_draft_through_the_build_test_gate(lendflow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    created = lendflow("product create anxin --name 安心借 --as pm --on 2026-01-05")
    assert created.stdout.strip() == "product anxin version 1 is a draft"

    early = lendflow("stage run anxin research --samples --as pm --on 2026-01-06")
    assert early.exit_code == 1
    assert early.error() == (
        "error: product anxin v1 is at the charter stage; research runs after charter passes"
        " its gate"
    )

    charter = lendflow("stage run anxin charter --samples --as pm --on 2026-01-06")
    assert charter.exit_code == 0, charter.stderr
    assert "inputs from the shipped samples: charter (samples/charter.yaml)" in charter.stdout
    assert "waiting at the charter gate" in charter.stdout
    assert "gate criteria: 4 of 4 passed" in charter.stdout

    refused = lendflow("gate decide anxin charter --decision go --as pm --on 2026-01-07")
    assert refused.exit_code == 1
    assert refused.error() == "error: user pm (product_manager) may not decide product gates"
    passed = lendflow(
        "gate decide anxin charter --decision go --note 客群清楚 --as committee1 --on 2026-01-07"
    )
    assert passed.stdout.strip() == (
        "anxin v1: go at the charter gate by committee1 on 2026-01-07; anxin is now research"
    )

    research = lendflow("stage run anxin research --samples --as head --on 2026-01-20 --json")
    assert research.exit_code == 0, research.stderr
    assert research.json()["criteria_passed"] is True
    assert [s["name"] for s in research.json()["samples"]] == ["survey", "competitors", "market"]
    own = lendflow("gate decide anxin research --decision go --as head --on 2026-01-21")
    assert own.exit_code == 1
    assert "another member of the product committee must decide its gate (four eyes)" in (
        own.error()
    )
    assert lendflow("gate decide anxin research --decision go --as committee2").exit_code == 0

    design = lendflow("stage run anxin design --samples --as pm --on 2026-02-02 --json")
    assert design.exit_code == 0, design.stderr
    assert [c["passed"] for c in design.json()["criteria"]] == [True] * 10
    gate = lendflow("gate show anxin --as committee1 --json").json()
    assert (gate["stage"], gate["run"], gate["criteria_passed"]) == (
        "design",
        design.json()["run"],
        True,
    )
    decided = lendflow(
        "gate decide anxin design --decision go --as committee1 --on 2026-02-03 --json"
    ).json()
    assert (decided["from_state"], decided["state"]) == ("design", "build_test")

    shown = lendflow("product show anxin --as pm --json").json()
    assert [(s["stage"], s["status"]) for s in shown["stages"]] == [
        ("charter", "passed"),
        ("research", "passed"),
        ("design", "passed"),
        ("build_test", "open"),
        ("launch", "not started"),
    ]
    assert [(d["stage"], d["decided_by"]) for d in shown["decisions"]] == [
        ("charter", "committee1"),
        ("research", "committee2"),
        ("design", "committee1"),
    ]
    table = lendflow("product show anxin --as pm").stdout
    assert "build_test" in table and "go by committee2" in table

    versions = lendflow("product versions anxin --as pm --json").json()["versions"]
    assert versions[0]["state"] == "build_test" and versions[0]["max_amount"] == 1_800_000
    listed = lendflow("product list --as auditor --json").json()
    assert {"code": "anxin", "state": "build_test"}.items() <= listed[0].items()

    saved = tmp_path / "research.html"
    written = lendflow(f"stage report anxin research --out {saved} --as pm")
    assert written.exit_code == 0
    assert saved.read_text(encoding="utf-8").count("<svg") == 5

    built = lendflow("stage run anxin build_test --samples --as pm --on 2026-02-16")
    assert built.exit_code == 0, built.stderr
    assert "inputs from the shipped samples" not in built.stdout  # it takes none
    assert "waiting at the build_test gate" in built.stdout
    assert "gate criteria: 21 of 21 passed" in built.stdout
    assert "  pass  late_then_cured: loan 2 missed its 2025-04-07 repayment" in built.stdout
    own_gate = lendflow("gate decide anxin build_test --decision go --as pm --on 2026-02-17")
    assert own_gate.error() == "error: user pm (product_manager) may not decide product gates"
    tested = lendflow(
        "gate decide anxin build_test --decision go --note 测试全部通过 --as committee2"
        " --on 2026-02-17 --json"
    ).json()
    assert (tested["from_state"], tested["state"], tested["criteria_passed"]) == (
        "build_test",
        "launch",
        True,
    )
    test_report = tmp_path / "build-test.html"
    assert (
        lendflow(f"stage report anxin build_test --out {test_report} --as auditor").exit_code == 0
    )
    assert "超长输入被拒绝" in test_report.read_text(encoding="utf-8")  # oversized_values_rejected
    after = lendflow("product show anxin --as pm --json").json()
    assert [(s["stage"], s["status"]) for s in after["stages"]][3] == ("build_test", "passed")


def test_a_bad_input_fails_the_stage_in_one_line_and_changes_nothing(
    lendflow,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    lendflow("product create anxin --name 安心借 --as pm --on 2026-01-05")
    empty = tmp_path / "charter.yaml"
    empty.write_text("", encoding="utf-8")
    failed = lendflow(f"stage run anxin charter --input charter={empty} --as pm --on 2026-01-06")
    assert failed.exit_code == 2
    assert failed.error() == f"error: {empty}: the file is empty"
    shown = lendflow("product show anxin --as pm --json").json()
    assert shown["state"] == "draft"
    assert shown["stages"][0]["status"] == "failed"
    missing = lendflow("stage run anxin research --as pm")
    assert missing.exit_code == 2
    assert missing.error() == (
        "error: stage research needs --input survey=FILE --input competitors=FILE"
        " --input market=FILE (or --samples for the shipped samples)"
    )
    malformed = lendflow("stage run anxin charter --input charter --as pm")
    assert (malformed.exit_code, malformed.error()) == (
        2,
        "error: --input must be NAME=FILE, got 'charter'",
    )
