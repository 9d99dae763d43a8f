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
from typing import TYPE_CHECKING, Any

from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import LendflowError, Problems, Refused
from lendflow.domain.money import format_grouped, parse_amount
from lendflow.lifecycle import records
from lendflow.lifecycle.reports import report_view, t
from lendflow.lifecycle.results import RunContext
from lendflow.rendering.reports import ReportSection, ReportTable, ReportView
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
GROUP_NAMES = {
    "build": ("构建", "Build"),
    "functional": ("功能测试", "Functional test"),
    "invariants": ("账务与状态不变式", "Invariants"),
    "security": ("安全测试", "Security test"),
}
PROFILE_NAMES = {
    "good": ("优质", "good"),
    "marginal": ("边缘", "marginal"),
    "poor": ("较差", "poor"),
}


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
            Criterion(BUILD_CHECK, False, f"the spec could not be made live: {why}"), None
        )
    figure = (
        f"{built.code} v{spec.version} (spec {spec.sha256[:12]}) imported and activated on"
        f" {OPENING} in a fresh SQLite sandbox at schema {built.revision}, with its own key and"
        f" staff and {built.models} credit models; the workspace's own book is never opened"
    )
    return SandboxBuild(Criterion(BUILD_CHECK, True, figure), built)


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
    return [Criterion(name, False, f"not run: {reason}") for name in names]


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


def build_test_report(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]
) -> ReportView:
    loc = ctx.locale
    by_name = {c.name: c for c in criteria}
    dates = outputs["business_dates"]
    spec = outputs["spec"]
    sections = [
        ReportSection(
            heading=t(loc, "测试范围", "Scope"),
            paragraphs=(
                t(
                    loc,
                    f"产品 {spec['code']} 第 {spec['version']} 版（规格 SHA-256"
                    f" {spec['sha256']}）在独立的沙箱数据库中上线，由合成申请人按固定业务日期走完"
                    "真实引擎的每条路径，期间逐日执行日终批处理；随后检查账务与状态不变式，并做安全"
                    "测试。正式账簿不被打开。",
                    f"Product {spec['code']} v{spec['version']} (spec SHA-256 {spec['sha256']}) is"
                    " made live in a sandbox database of its own; synthetic applicants take every"
                    " path of the real engine on fixed business dates, with close of business run"
                    " over every date between; then the invariants of the book are checked and the"
                    " security test is run. The real book is never opened.",
                ),
                *(
                    ()
                    if dates is None
                    else (
                        t(
                            loc,
                            f"沙箱业务日期 {dates['first']} 至 {dates['last']}，日终批处理"
                            f" {dates['closed_days']} 日。",
                            f"Sandbox business dates {dates['first']} to {dates['last']}, close"
                            f" of business over {dates['closed_days']} days.",
                        ),
                    )
                ),
            ),
        ),
        *(_group_section(loc, group, names, by_name) for group, names in GROUPS),
    ]
    if outputs["loans"]:
        sections.insert(3, _loans_section(loc, outputs["loans"]))
    summary = (
        ()
        if dates is None
        else (
            (
                t(loc, "沙箱业务日期", "Sandbox business dates"),
                f"{dates['first']} – {dates['last']}",
            ),
            (t(loc, "功能测试贷款", "Functional-test loans"), str(len(outputs["loans"]))),
        )
    )
    return report_view(ctx, sections, criteria, summary=summary)


def _group_section(
    loc: str, group: str, names: tuple[str, ...], by_name: dict[str, Criterion]
) -> ReportSection:
    """One test's checks, pass or fail; their figures are listed with the gate's criteria."""
    checks = [by_name[name] for name in names if name in by_name]
    passed = sum(1 for c in checks if c.passed)
    return ReportSection(
        heading=t(loc, *GROUP_NAMES[group]),
        paragraphs=(
            t(loc, f"{passed}/{len(checks)} 项通过。", f"{passed} of {len(checks)} passed."),
        ),
        tables=(
            ReportTable(
                columns=(t(loc, "检查", "Check"), t(loc, "结果", "Result")),
                rows=tuple(
                    (c.name, t(loc, "通过", "pass") if c.passed else t(loc, "未通过", "FAIL"))
                    for c in checks
                ),
            ),
        ),
    )


def _loans_section(loc: str, loans: list[dict[str, Any]]) -> ReportSection:
    rows = tuple(
        (
            str(loan["loan"]),
            ", ".join(loan["paths"]),
            t(loc, *PROFILE_NAMES[loan["applicant"]]),
            loan["state"],
            loan["grade"] or "—",
            f"{loan['rate']}%",
            format_grouped(parse_amount(loan["principal"])),
            loan["closed_on"] or "—",
        )
        for loan in loans
    )
    return ReportSection(
        heading=t(loc, "功能测试中的贷款", "Loans of the functional test"),
        tables=(
            ReportTable(
                columns=(
                    t(loc, "贷款", "Loan"),
                    t(loc, "路径", "Paths"),
                    t(loc, "申请人", "Applicant"),
                    t(loc, "状态", "Status"),
                    t(loc, "等级", "Grade"),
                    t(loc, "利率", "Rate"),
                    t(loc, "本金（元）", "Principal (yuan)"),
                    t(loc, "结清日", "Closed on"),
                ),
                rows=rows,
            ),
        ),
    )
