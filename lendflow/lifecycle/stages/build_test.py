"""Stage 4, build and test (系统开发与测试): the design's spec built and tested in a sandbox.

Build: the spec the design gate let through is imported and activated in a
fresh sandbox workspace (sandbox). Functional test: synthetic applicants
through every path of the real engine (sandbox_book), then the invariants of
the whole book (sandbox_invariants). Security test: personal data, masking,
roles and hostile inputs (sandbox_security). Each is a named check with its
figures; the gate's criteria are all of them, and the gate needs every one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import LendflowError, Problems, Refused
from lendflow.domain.money import parse_amount
from lendflow.lifecycle import records
from lendflow.lifecycle.reports import stage_report
from lendflow.lifecycle.results import RunContext
from lendflow.rendering.reports import Report
from lendflow.sandbox.book import FUNCTIONAL_CHECKS, OPENING, BookRun, run_book
from lendflow.sandbox.invariants import INVARIANT_CHECKS, invariant_checks
from lendflow.sandbox.security import SECURITY_CHECKS, security_checks
from lendflow.sandbox.workspace import (
    BuiltSandbox,
    SandboxSetup,
    build_sandbox,
    open_sandbox,
    spec_of,
)
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

BUILD_CHECK = "sandbox_built"
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("build", (BUILD_CHECK,)),
    ("functional", FUNCTIONAL_CHECKS),
    ("invariants", INVARIANT_CHECKS),
    ("security", SECURITY_CHECKS),
)


@dataclass(frozen=True)
class VersionSpec:
    """The spec of the version in development, as its design gate let it through."""

    code: str
    version: int
    sha256: str
    text: str


def version_spec(ws: Workspace, code: str) -> VersionSpec:
    """The version's spec; refused while no design has passed its gate."""

    def use_case(uow: UnitOfWork) -> VersionSpec:
        version = records.pipeline_version(uow, code)
        if not version["spec_yaml"]:
            raise Refused(
                f"{records.label(version)} has no spec yet: build and test runs on the spec its"
                " design gate let through"
            )
        return VersionSpec(
            code, int(version["version"]), str(version["spec_sha256"]), str(version["spec_yaml"])
        )

    return run_in_transaction(ws.engine, use_case)


@dataclass(frozen=True)
class SandboxBuild:
    """The build step's answer: the sandbox, or why it could not be built."""

    criterion: Criterion
    built: BuiltSandbox | None


def build(setup: SandboxSetup, spec: VersionSpec) -> SandboxBuild:
    """Build the sandbox; a spec the engine refuses fails the build check, not the run."""
    try:
        built = build_sandbox(setup, spec.text, OPENING)
    except LendflowError as exc:
        where = f"{setup.spec_file(spec.code)}: "
        found = exc.problems if isinstance(exc, Problems) else [exc.message]
        why = "; ".join(p.removeprefix(where) for p in found)
        return SandboxBuild(
            Criterion(
                BUILD_CHECK,
                False,
                f"the spec could not be made live: {why}",
                {"messages": [p.removeprefix(where) for p in found]},
            ),
            None,
        )
    figure = (
        f"{built.code} v{spec.version} (spec {spec.sha256[:12]}) imported and activated on"
        f" {OPENING} in a fresh SQLite sandbox at schema {built.revision}, with its own key and"
        f" staff and {built.models} credit models; the workspace's own book is never opened"
    )
    facts = {
        "code": built.code,
        "version": spec.version,
        "sha256": spec.sha256[:12],
        "opening": OPENING.isoformat(),
        "revision": built.revision,
        "models": "packaged" if built.models == "packaged" else "own",
    }
    return SandboxBuild(Criterion(BUILD_CHECK, True, figure, facts), built)


def functional_test(setup: SandboxSetup, spec: VersionSpec) -> BookRun:
    with open_sandbox(setup) as ws:
        return run_book(ws, spec_of(spec.text))


def security_test(setup: SandboxSetup, spec: VersionSpec, on: date) -> list[Criterion]:
    with open_sandbox(setup) as ws:
        return security_checks(ws, spec_of(spec.text), on)


def invariants(setup: SandboxSetup) -> list[Criterion]:
    with open_sandbox(setup) as ws:
        return invariant_checks(ws)


def not_run(reason: str) -> list[Criterion]:
    """Every check after the build, failed: nothing can be tested without the sandbox."""
    names = [name for _, group in GROUPS[1:] for name in group]
    return [Criterion(name, False, f"not run: {reason}", {"not_run": True}) for name in names]


def build_test_outputs(
    spec: VersionSpec,
    built: SandboxBuild,
    book: BookRun | None,
    checks: list[Criterion],
) -> tuple[dict[str, Any], list[Criterion]]:
    """The gate's criteria (the build check, then every test check) and the run's outputs."""
    criteria = [built.criterion, *checks]
    by_name = {c.name: c for c in criteria}
    outputs = {
        "spec": {"code": spec.code, "version": spec.version, "sha256": spec.sha256},
        "sandbox": None
        if built.built is None
        else built.built.as_dict() | {"database": "a temporary SQLite file, removed after the run"},
        "business_dates": None
        if book is None
        else {
            "first": book.first_day.isoformat(),
            "last": book.last_day.isoformat(),
            "closed_days": book.cob_days,
        },
        "loans": [] if book is None else book.loans,
        "checks": {
            group: [by_name[name].as_dict() for name in names if name in by_name]
            for group, names in GROUPS
        },
    }
    return outputs, criteria


@dataclass(frozen=True)
class SandboxLoan:
    """A loan of the functional test: the paths it took and where it ended."""

    loan: int
    paths: tuple[str, ...]
    applicant: str
    state: str
    grade: str | None
    rate: Decimal
    principal: int
    closed_on: date | None


@dataclass(frozen=True)
class CheckGroup:
    group: str
    checks: tuple[Criterion, ...]

    @property
    def passed(self) -> int:
        return sum(1 for c in self.checks if c.passed)


@dataclass(frozen=True)
class BuildTestData:
    code: str
    version: int
    sha256: str
    first_day: date | None
    last_day: date | None
    closed_days: int
    groups: tuple[CheckGroup, ...]
    loans: tuple[SandboxLoan, ...]


def build_test_report(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]
) -> Report:
    by_name = {c.name: c for c in criteria}
    dates = outputs["business_dates"] or {}
    spec = outputs["spec"]
    data = BuildTestData(
        code=spec["code"],
        version=spec["version"],
        sha256=spec["sha256"],
        first_day=date.fromisoformat(dates["first"]) if dates else None,
        last_day=date.fromisoformat(dates["last"]) if dates else None,
        closed_days=dates.get("closed_days", 0),
        groups=tuple(
            CheckGroup(group, tuple(by_name[name] for name in names if name in by_name))
            for group, names in GROUPS
        ),
        loans=tuple(
            SandboxLoan(
                loan=int(loan["loan"]),
                paths=tuple(loan["paths"]),
                applicant=loan["applicant"],
                state=loan["state"],
                grade=loan["grade"] or None,
                rate=Decimal(loan["rate"]),
                principal=parse_amount(loan["principal"]),
                closed_on=date.fromisoformat(loan["closed_on"]) if loan["closed_on"] else None,
            )
            for loan in outputs["loans"]
        ),
    )
    return stage_report(ctx, data, criteria)
