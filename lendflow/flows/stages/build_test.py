"""Stage 4 flow, build and test (系统开发与测试): build a sandbox, test it, report.

The version's spec is made live in a sandbox workspace in a temporary folder;
the functional test drives synthetic applicants through the real engine, the
security test attacks it, the invariants are checked over the whole book, and
the test report lists every check. The folder is removed when the run ends.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from typing import Any

from prefect import flow, task

from lendflow.domain.criteria import Criterion
from lendflow.flows.stages.steps import STEP, run_stage
from lendflow.lifecycle.inputs import CapturedInput
from lendflow.lifecycle.reports import REPORT_FORMAT, chart_records, render
from lendflow.lifecycle.results import RunContext, StageOutcome
from lendflow.lifecycle.runs import StartedRun
from lendflow.lifecycle.stages.build_test import (
    SandboxBuild,
    VersionSpec,
    build,
    build_test_outputs,
    build_test_report,
    functional_test,
    invariants,
    not_run,
    security_test,
    version_spec,
)
from lendflow.sandbox.book import BookRun
from lendflow.sandbox.workspace import SandboxSetup, setup_for
from lendflow.workspace.context import Workspace

ONCE: dict[str, Any] = {**STEP, "retries": 0}
"""A test drives the sandbox book forward, so a second try would test another book. The
sandbox is private to the run (nothing else can lock it): a failure there is a finding."""


@task(name="load-spec", **STEP)
def load_spec_step(code: str) -> VersionSpec:
    """The spec the design gate let through for the version in development."""
    from lendflow.flows.runtime import workspace

    return version_spec(workspace(), code)


@task(name="build-sandbox", **STEP)
def build_step(setup: SandboxSetup, spec: VersionSpec) -> SandboxBuild:
    """A fresh SQLite workspace with its own key; the spec imported and activated there."""
    return build(setup, spec)


@task(name="functional-test", **ONCE)
def functional_step(setup: SandboxSetup, spec: VersionSpec) -> BookRun:
    """Approve, reject, refer, withdraw, pay out, repay on time, late, never and early."""
    return functional_test(setup, spec)


@task(name="security-test", **ONCE)
def security_step(setup: SandboxSetup, spec: VersionSpec, on: date) -> list[Criterion]:
    """Hostile inputs, role checks, masking, and personal data unreadable in the raw files."""
    return security_test(setup, spec, on)


@task(name="invariants", **STEP)
def invariants_step(setup: SandboxSetup) -> list[Criterion]:
    """Audit clean, schedules sum, statuses legal, balances equal to the journal."""
    return invariants(setup)


@task(name="test-report", **STEP)
def report_step(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]
) -> tuple[bytes, list[dict[str, str]]]:
    view = build_test_report(ctx, outputs, criteria)
    return render(view, ctx.locale), chart_records(view)


def _work(ws: Workspace, started: StartedRun, _inputs: dict[str, CapturedInput]) -> StageOutcome:
    ctx = started.context
    spec = load_spec_step.submit(ctx.code).result()
    with tempfile.TemporaryDirectory(prefix="lendflow-sandbox-") as folder:
        setup = setup_for(ws, folder)
        built = build_step.submit(setup, spec).result()
        book = None
        if built.built is None:
            checks = not_run("the sandbox could not be built")
        else:
            book = functional_step.submit(setup, spec).result()
            on = book.last_day + timedelta(days=1)
            security = security_step.submit(setup, spec, on).result()
            checks = [*book.checks, *invariants_step.submit(setup).result(), *security]
    outputs, criteria = build_test_outputs(spec, built, book, checks)
    report, charts = report_step.submit(ctx, outputs, criteria).result()
    return StageOutcome(outputs, criteria, report, REPORT_FORMAT, charts)


@flow(name="stage-build-test")
def build_test_stage(
    code: str,
    user: str,
    as_of: date,
    inputs: dict[str, str] | None = None,
    samples: bool = False,
) -> dict[str, Any]:
    """Run the build and test stage of product `code` and leave it at its gate."""
    return run_stage("build_test", code, user, as_of, inputs, samples, _work)
