"""The demonstration: one product's whole life and a simulated year of lending.

It drives the real thing end to end on a fresh workspace: the product goes from
charter to live through its stage flows, with each gate decided by a committee
member who did not run the stage; simulated applicants apply through the engine
every business day, are reviewed automatically, paid out and repay (or do not)
by risk grade; every business day is closed; the product is reviewed each month
end and improved at the end, leaving version 2 in design. The same seed gives
the same book and the same report.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lendflow.demo.simulation import SimulatedBook, Simulator, survey_people
from lendflow.domain.calendar import add_months
from lendflow.domain.errors import Refused
from lendflow.domain.simulation import Offer, SimulatedApplicant, business_days, draw_applicants
from lendflow.flows.runtime import workspace
from lendflow.flows.stages import stage_flow
from lendflow.lifecycle import live_gates
from lendflow.lifecycle import products as product_lifecycle
from lendflow.products import catalogue as products
from lendflow.workspace.context import Workspace

CODE = "anxin"
NAME = "安心借"
RUNNER = "pm"
COMMITTEE = "committee1"
LIFECYCLE_START = date(2024, 11, 4)
LENDING_START = date(2025, 1, 2)
LAUNCH_STAGES = ("charter", "research", "design", "build_test", "launch")
SURVEY = Path(__file__).parents[1] / "config" / "samples" / "survey.csv"

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total): how far a phase has got, for a terminal's bars."""


@dataclass(frozen=True)
class DemoPlan:
    applicants: int = 3_000
    months: int = 12
    seed: int = 2025
    out: Path = Path("demo-report")

    @property
    def lending_end(self) -> date:
        return add_months(LENDING_START.replace(day=1), self.months) - timedelta(days=1)


@dataclass
class DemoRun:
    """What the demonstration did, phase by phase, for the report."""

    plan: DemoPlan
    stage_runs: list[dict[str, Any]] = field(default_factory=list)
    book: SimulatedBook | None = None
    months: list[dict[str, Any]] = field(default_factory=list)


def _quiet(_phase: str, _done: int, _total: int) -> None:
    return None


def run_stage(
    run: DemoRun,
    stage: str,
    as_of: date,
    *,
    decide: str = "go",
    to: str | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Run one stage flow on the shipped samples as the product manager; a committee
    member who did not run it decides its gate the next day. A launch stage must pass
    every criterion (`strict`); a review goes on with a note saying what is done."""
    flow = stage_flow(stage)
    if flow is None:
        raise Refused(f"stage {stage} has no flow in this installation")
    result = flow(code=CODE, user=RUNNER, as_of=as_of, inputs=None, samples=True)
    result["as_of"] = as_of.isoformat()
    run.stage_runs.append(result)
    failed = [c["name"] for c in result.get("criteria", []) if not c["passed"]]
    if failed and strict:
        raise Refused(f"the {stage} gate cannot go: {', '.join(failed)} did not pass")
    note = f"{stage}: evidence reviewed by the product committee"
    if failed:
        note += f"; follow-up agreed on {', '.join(failed)}"
    ws = workspace()
    live_gates.decide(
        ws,
        ws.actor(COMMITTEE),
        CODE,
        stage,
        decide,
        to=to,
        note=note,
        as_of=as_of + timedelta(days=1),
    )
    return result


def take_to_market(run: DemoRun, progress: Progress = _quiet) -> None:
    """Create the product and take version 1 through stages 1–5 to live."""
    ws = workspace()
    product_lifecycle.create_product(ws, ws.actor(RUNNER), CODE, NAME, LIFECYCLE_START)
    for done, stage in enumerate(LAUNCH_STAGES):
        progress("lifecycle", done, len(LAUNCH_STAGES))
        run_stage(run, stage, LIFECYCLE_START + timedelta(days=7 * (done + 1)))
    progress("lifecycle", len(LAUNCH_STAGES), len(LAUNCH_STAGES))


def live_offer(ws: Workspace) -> Offer:
    from lendflow.store import products as product_store
    from lendflow.store.uow import run_in_transaction

    version = run_in_transaction(ws.engine, lambda uow: product_store.live_version(uow, CODE))
    spec = products.spec_of(version)
    return Offer(
        spec.amount.min,
        spec.amount.max,
        spec.amount.step,
        tuple(spec.terms),
        tuple(spec.purposes),
    )


def lend(run: DemoRun, progress: Progress = _quiet) -> None:
    """Simulated applicants every business day; close of business every business day;
    the product reviewed at every month end."""
    plan = run.plan
    ws = workspace()
    days = business_days(LENDING_START, plan.lending_end)
    arrivals = draw_applicants(
        survey_people(SURVEY), live_offer(ws), days, plan.applicants, random.Random(plan.seed)
    )
    by_day: dict[date, list[SimulatedApplicant]] = {}
    for applicant in arrivals:
        by_day.setdefault(applicant.applies_on, []).append(applicant)
    run.book = SimulatedBook(CODE, plan.seed)
    simulator = Simulator(ws, run.book)
    month_end = _month_end(days[0])
    for done, day in enumerate(days):
        simulator.day(day, by_day.get(day, []))
        progress("lending", done + 1, len(days))
        last_of_month = done + 1 == len(days) or days[done + 1] > month_end
        if last_of_month:
            simulator.close(month_end)  # the review looks at the closed month end
            run.months.append({"month_end": month_end, **dict(run.book.counts)})
            review(run, month_end)
            month_end = _month_end(month_end + timedelta(days=1))


def review(run: DemoRun, month_end: date) -> None:
    """Stage 6: the monthly product review; the committee keeps the product live."""
    run_stage(run, "operate", month_end, strict=False)


def improve(run: DemoRun, progress: Progress = _quiet) -> None:
    """Stage 7: feedback, review minutes and an improvement plan that starts version 2."""
    progress("improvement", 0, 1)
    run_stage(
        run,
        "improve",
        run.plan.lending_end + timedelta(days=3),
        decide="recycle",
        to="design",
        strict=False,
    )
    progress("improvement", 1, 1)


def _month_end(day: date) -> date:
    return add_months(day.replace(day=1), 1) - timedelta(days=1)
