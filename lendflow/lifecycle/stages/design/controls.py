"""The design gate's checks of what a product runs on: credit models, overdue strategy,
loan process and documents.

The positioning checks (design_checks) hold the price and the amounts against
the research; these hold the rest of the spec against what the engine and the
policy need before a single loan can be made: a scorecard and a decision table
that load and price every grade they give, an overdue strategy with penalty
terms the policy allows, a loan process whose promises hang together, and
documents that carry every required clause in both locales.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendflow.config.credit_models import (
    FOLDER_NAME,
    CreditModels,
    credit_setup_problems,
    packaged_folder,
)
from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import LendflowError
from lendflow.domain.money import format_grouped
from lendflow.domain.rules import DecisionTable
from lendflow.domain.schedule import generate

if TYPE_CHECKING:
    from lendflow.config.product_spec import Bucket, LoanProcess
    from lendflow.lifecycle.stages.design.context import DesignContext
    from lendflow.workspace.context import Workspace

REQUIRED_STEPS = ("review", "payout", "complaint")
"""Steps every process must promise a service level for: the customer waits on each."""
ORDERED_STEPS = ("apply", "review", "sign", "payout", "repay")
"""Steps that, when listed, must come in this order: a loan is reviewed before it is paid."""
DOCUMENT_KINDS = ("brochure", "contract", "risk-disclosure")


def _models(ctx: DesignContext) -> CreditModels:
    """The workspace's own models first, then the packaged ones, as automated review finds them."""
    folders: list[Path] = []
    if ctx.workspace is not None:
        folders.append(ctx.workspace.settings.home / FOLDER_NAME)
    return CreditModels([*folders, packaged_folder()])


def _without_source(problems: list[str], source: str) -> list[str]:
    return [p.removeprefix(f"{source}: ") for p in problems]


def risk_controls_valid(ctx: DesignContext) -> Criterion:
    """A champion scorecard and a decision table that load cleanly, every grade the table
    can give priced, and a challenger (if any) that loads too."""
    name = "risk_controls_valid"
    spec = ctx.spec
    missing = [field for field in ("scorecard", "decision_table") if getattr(spec, field) is None]
    if missing:
        return Criterion(
            name,
            False,
            f"the spec names no {' and no '.join(missing)}: automated review cannot decide"
            " (name the champion scorecard and the decision table)",
            {"missing": missing},
        )
    models = _models(ctx)
    problems = _without_source(credit_setup_problems(spec, models, ctx.source), ctx.source)
    if problems:
        return Criterion(name, False, "; ".join(problems), {"messages": problems})
    card = models.scorecard(str(spec.scorecard)).model
    table = models.table(str(spec.decision_table)).model
    assert isinstance(table, DecisionTable)
    graded = sorted({r.grade for r in table.rules if r.grade is not None})
    prices = ", ".join(f"{grade} {spec.rate.by_grade[grade]}%" for grade in graded)
    figure = (
        f"champion {card.code} v{card.version} and table {table.code} v{table.version} load"
        f" cleanly; every grade the table gives is priced ({prices})"
    )
    facts: dict[str, Any] = {
        "champion": [card.code, card.version],
        "table": [table.code, table.version],
        "prices": [(grade, spec.rate.by_grade[grade]) for grade in graded],
        "challenger": None,
    }
    if spec.challenger:
        challenger = models.scorecard(spec.challenger).model
        figure += f"; challenger {challenger.code} v{challenger.version} scored in shadow"
        facts["challenger"] = [challenger.code, challenger.version]
    return Criterion(name, True, figure, facts)


def overdue_strategy_valid(ctx: DesignContext) -> Criterion:
    """Grace, arrears tolerance, buckets, classes and the write-off threshold hang together,
    and penalty terms exist within the policy's cap on overdue charges."""
    spec, rules = ctx.spec, ctx.spec.delinquency
    cap = ctx.policy.overdue_charges_cap
    found = _overdue_problems(ctx)
    buckets = ", ".join(_bucket_ranges(rules.buckets))
    classes = ", ".join(f"{c.name.zh_CN} {c.min_dpd}+" for c in rules.classification)
    penalty = (
        "none"
        if spec.penalty is None
        else f"{spec.penalty.annual_rate}% a year on {spec.penalty.base} (cap {cap}%)"
    )
    figure = (
        f"grace {rules.grace_days} days, tolerance {format_grouped(rules.arrears_tolerance)},"
        f" buckets {buckets}; classes {classes}; write-off past {rules.write_off_dpd} dpd;"
        f" penalty {penalty}"
    )
    facts = {
        "grace_days": rules.grace_days,
        "tolerance": rules.arrears_tolerance,
        "buckets": _bucket_ranges(rules.buckets),
        "classes": [[c.name.zh_CN, c.name.en, c.min_dpd] for c in rules.classification],
        "write_off_dpd": rules.write_off_dpd,
        "penalty": None
        if spec.penalty is None
        else {"rate": spec.penalty.annual_rate, "base": spec.penalty.base},
        "cap": cap,
        "last_bucket": [rules.buckets[-1].name, found.last_bucket_from],
        "smallest_instalment": found.smallest,
        "problems": [code for code, _ in found.problems],
    }
    problems = [text for _, text in found.problems]
    return Criterion("overdue_strategy_valid", not problems, "; ".join([figure, *problems]), facts)


@dataclass(frozen=True)
class _OverdueProblems:
    problems: list[tuple[str, str]]
    """(code, English line) of each problem found."""
    last_bucket_from: int
    smallest: int


def _overdue_problems(ctx: DesignContext) -> _OverdueProblems:
    spec, rules = ctx.spec, ctx.spec.delinquency
    cap = ctx.policy.overdue_charges_cap
    found: list[tuple[str, str]] = []
    if spec.penalty is None:
        found.append(("no_penalty", "no penalty terms (penalty: annual_rate, base)"))
    elif spec.penalty.annual_rate > cap:
        found.append(
            (
                "penalty_over_cap",
                f"penalty {spec.penalty.annual_rate}% exceeds the policy cap on overdue"
                f" charges {cap}%",
            )
        )
    elif spec.penalty.annual_rate <= 0:
        found.append(("penalty_not_positive", "penalty annual_rate must be more than zero"))
    last_bucket_from = (rules.buckets[-2].max_dpd or 0) + 1 if len(rules.buckets) > 1 else 1
    if rules.write_off_dpd < last_bucket_from:
        found.append(
            (
                "write_off_before_last_bucket",
                f"write-off at {rules.write_off_dpd} dpd comes before the last bucket"
                f" {rules.buckets[-1].name} (from {last_bucket_from} dpd)",
            )
        )
    if rules.grace_days >= rules.write_off_dpd:
        found.append(
            (
                "grace_reaches_write_off",
                f"grace of {rules.grace_days} days reaches the write-off at"
                f" {rules.write_off_dpd} dpd",
            )
        )
    smallest_loan = generate(spec.schedule_terms(spec.amount.min, max(spec.terms), ctx.as_of))
    smallest = min(row.total for row in smallest_loan.instalments)
    if rules.arrears_tolerance >= smallest:
        found.append(
            (
                "tolerance_not_below_instalment",
                f"arrears tolerance {format_grouped(rules.arrears_tolerance)} is not below the"
                f" smallest instalment {format_grouped(smallest)}: nobody would ever be overdue",
            )
        )
    return _OverdueProblems(found, last_bucket_from, smallest)


def _bucket_ranges(buckets: list[Bucket]) -> list[str]:
    """`M0 0, M1 1–30, …, M3+ 91+`: each bucket with the days past due it holds."""
    shown, start = [], 0
    for bucket in buckets:
        if bucket.max_dpd is None:
            shown.append(f"{bucket.name} {start}+")
        elif bucket.max_dpd == start:
            shown.append(f"{bucket.name} {start}")
        else:
            shown.append(f"{bucket.name} {start}–{bucket.max_dpd}")
        start = (bucket.max_dpd or 0) + 1
    return shown


def loan_process_defined(ctx: DesignContext) -> Criterion:
    """Channels and steps are given, the customer-facing steps carry service levels, and
    the promises fit the product and the policy."""
    name = "loan_process_defined"
    process = ctx.spec.process
    if process is None:
        return Criterion(
            name,
            False,
            "the spec defines no loan process (process: channels, and steps with service"
            " levels such as review within 1 business day)",
            {"process": None},
        )
    problems = _process_problems(ctx, process)
    steps = " → ".join(
        s.step + (f" ({s.within.describe()})" if s.within else "") for s in process.steps
    )
    figure = f"channels {', '.join(process.channels)}; steps {steps}"
    facts = {
        "channels": list(process.channels),
        "steps": [
            {
                "step": s.step,
                "name": {"zh-CN": s.name.zh_CN, "en": s.name.en},
                "within": None if s.within is None else [s.within.count, s.within.unit],
            }
            for s in process.steps
        ],
        "messages": problems,
    }
    return Criterion(name, not problems, "; ".join([figure, *problems]), facts)


def _process_problems(ctx: DesignContext, process: LoanProcess) -> list[str]:
    problems: list[str] = []
    for code in REQUIRED_STEPS:
        step = process.find(code)
        if step is None:
            problems.append(f"no {code} step")
        elif step.within is None:
            problems.append(f"the {code} step promises no service level (within: ...)")
    listed = [s.step for s in process.steps if s.step in ORDERED_STEPS]
    if listed != sorted(listed, key=ORDERED_STEPS.index):
        problems.append(f"steps {', '.join(listed)} are out of order ({' → '.join(ORDERED_STEPS)})")
    payout = process.find("payout")
    validity = ctx.spec.approval_validity_days
    if payout is not None and payout.within is not None:
        days = payout.within.calendar_days()
        if days >= validity:
            problems.append(
                f"payout within {payout.within.describe()} (up to {days} calendar days) does not"
                f" come before an approval lapses ({validity} days)"
            )
    levels = ctx.policy.service_levels
    for code, limit in (("complaint", levels.complaint), ("question", levels.question)):
        step = process.find(code)
        if step is None or step.within is None:
            continue
        days = step.within.calendar_days()
        if days > limit:
            problems.append(
                f"{code} within {step.within.describe()} (up to {days} calendar days) is longer"
                f" than the policy's {limit} days"
            )
    return problems


def documents_complete(ctx: DesignContext) -> Criterion:
    """Brochure, specimen contract and risk disclosure render in both locales with every
    content their kind requires (a lender's own templates included)."""
    from lendflow.documents.issuing import product_document_problems

    name = "documents_complete"
    ws = ctx.workspace or packaged_workspace()
    try:
        problems = product_document_problems(ws, ctx.spec, version=ctx.version, as_of=ctx.as_of)
    except LendflowError as exc:
        return Criterion(
            name,
            False,
            f"the documents cannot be rendered: {exc.message}",
            {"messages": [exc.message]},
        )
    if problems:
        return Criterion(name, False, "; ".join(problems), {"messages": problems})
    templates = ws.settings.templates
    where = (
        f"templates from {templates} over the packaged ones" if templates else "packaged templates"
    )
    return Criterion(
        name,
        True,
        f"{', '.join(DOCUMENT_KINDS)} render in zh-CN and en (Markdown and HTML, {where}) with"
        " every required content",
        {"kinds": list(DOCUMENT_KINDS), "templates": None if not templates else str(templates)},
    )


def packaged_workspace() -> Workspace:
    """Settings without a database: enough to find the templates and the policy."""
    from lendflow.config.settings import load_settings
    from lendflow.workspace.context import Workspace

    return Workspace(settings=load_settings())
