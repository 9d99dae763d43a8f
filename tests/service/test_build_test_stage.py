"""Build and test's services on specs that should fail: each failure names its check.

The sandbox is a SQLite workspace of its own in a temporary folder, so these
run without the workspace fixtures; the flow's own test runs the whole stage.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from lendflow.domain.criteria import Criterion
from lendflow.lifecycle.catalog import samples_folder
from lendflow.lifecycle.stages.build_test import (
    VersionSpec,
    build,
    build_test_outputs,
    functional_test,
    invariants,
    not_run,
    security_test,
)
from lendflow.sandbox.workspace import SandboxSetup, guarded

SAMPLE = (samples_folder() / "product-spec.yaml").read_text(encoding="utf-8")
PENALTY = SAMPLE[SAMPLE.index("\npenalty:") + 1 : SAMPLE.index("\ndelinquency:") + 1]
TEMPLATES = Path(__file__).parents[2] / "lendflow" / "templates"


def spec(text: str = SAMPLE) -> VersionSpec:
    return VersionSpec("anxin", 1, "0" * 64, text)


def failed(checks: list[Criterion]) -> dict[str, str]:
    return {c.name: c.figure for c in checks if not c.passed}


def test_a_spec_without_penalty_terms_is_built_but_nothing_can_be_paid_out(tmp_path: Path) -> None:
    assert SAMPLE.count(PENALTY) == 1
    bare = spec(SAMPLE.replace(PENALTY, ""))
    setup = SandboxSetup(str(tmp_path))
    built = build(setup, bare)
    assert built.criterion.passed, built.criterion.figure
    book = functional_test(setup, bare)
    problems = failed(book.checks)
    assert list(problems) == [
        "disburse",
        "repay_on_time",
        "late_then_cured",
        "default_and_write_off",
        "prepay",
    ]
    assert problems["disburse"] == (
        "2025-03-04: loan 1: its contract cannot be issued, so nothing is paid out: missing"
        " penalty terms (product anxin declares no penalty interest) (and 4 more refusals)"
    )
    assert problems["prepay"] == "not reached: loans 4 were not paid out (see disburse)"
    # refused before any money moved: the book is sound, but it has no schedule to show
    assert failed(invariants(setup)) == {
        "schedules_sum_to_principal": "no loan was paid out: no schedule to check"
    }


def test_a_spec_the_policy_refuses_fails_the_build_and_runs_nothing(tmp_path: Path) -> None:
    deducted = SAMPLE.replace(
        "pricing:",
        "fees:\n  - {code: service, name: {zh-CN: 服务费, en: Service fee}, when: upfront,"
        ' basis: fixed, value: "1", deducted_from_principal: true}\npricing:',
        1,
    )
    built = build(SandboxSetup(str(tmp_path)), spec(deducted))
    assert not built.criterion.passed
    assert built.criterion.figure == (
        "the spec could not be made live: fees.service: policy forbids deducting fees from the"
        " principal"
    )
    _, criteria = build_test_outputs(spec(deducted), built, None, not_run("no sandbox"))
    assert len(criteria) == 21 and not any(c.passed for c in criteria)
    assert criteria[1] == Criterion("automated_approve", False, "not run: no sandbox")


def test_a_template_that_marks_the_name_safe_fails_the_security_test(tmp_path: Path) -> None:
    own = tmp_path / "templates" / "zh-CN"
    own.mkdir(parents=True)
    contract = (TEMPLATES / "zh-CN" / "contract.html.j2").read_text(encoding="utf-8")
    assert contract.count("<td>{{ borrower.name }}<br>") == 1
    unsafe = contract.replace("<td>{{ borrower.name }}<br>", "<td>{{ borrower.name|safe }}<br>")
    (own / "contract.html.j2").write_text(unsafe, encoding="utf-8")
    setup = SandboxSetup(str(tmp_path / "sandbox"), templates=str(tmp_path / "templates"))
    assert build(setup, spec()).criterion.passed
    book = functional_test(setup, spec())
    assert failed(book.checks) == {}
    problems = failed(security_test(setup, spec(), book.last_day + timedelta(days=1)))
    assert list(problems) == ["script_injection_escaped"]
    assert problems["script_injection_escaped"].endswith(
        "; the HTML contract does not show the name escaped"
    )


def test_a_check_that_breaks_fails_alone_with_its_error() -> None:
    def broken() -> Criterion:
        raise KeyError("principal_outstanding")

    assert guarded("balances_equal_journal", broken) == Criterion(
        "balances_equal_journal",
        False,
        "the check broke: KeyError: 'principal_outstanding'",
    )
    misnamed = guarded("prepay", lambda: Criterion("repay_on_time", True, "fine"))
    assert misnamed == Criterion("prepay", False, "the check answered as repay_on_time")
