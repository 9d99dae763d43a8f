"""Stage 7, improve (反馈与改进机制): feedback, internal review, the improvement plan.

Customer feedback gives the NPS, the rating and the themes comments keep
raising; the internal review's minutes record the decisions and their owners,
with the KPIs of the day attached; the improvement plan is applied to a copy of
the live spec. When the committee recycles the plan to design, the copy becomes
the next version, which enters design while this one stays live (succession).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.product_spec import policy_problems
from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import NotFound
from lendflow.domain.feedback import (
    FeedbackResponse,
    average_rating,
    net_promoter_score,
    rating_counts,
    recurring_themes,
)
from lendflow.lifecycle import records
from lendflow.lifecycle.inputs import CapturedInput
from lendflow.lifecycle.reports import stage_report
from lendflow.lifecycle.results import RunContext
from lendflow.lifecycle.stages.improve.inputs import ImprovementPlan, Minutes, apply_plan
from lendflow.lifecycle.stages.operate import KPI_ROWS, typed
from lendflow.rendering.reports import BarChart, Chart, Report
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.config.policy import Policy
    from lendflow.workspace.context import Workspace

MIN_FEEDBACK = 30
"""Fewer answer sheets than this say little about what customers think."""
ATTACHED_KPIS = (
    "applications",
    "approval_rate",
    "disbursed_count",
    "disbursed_amount",
    "outstanding",
    "par30",
    "non_performing_ratio",
    "complaints_per_thousand",
)


@dataclass(frozen=True)
class LiveSpec:
    version: int
    spec_yaml: str


def live_spec(ws: Workspace, code: str) -> LiveSpec:
    """The spec of the version that is live: what the plan changes a copy of."""

    def use_case(uow: UnitOfWork) -> LiveSpec:
        version = records.live_version(uow, code, stage_id="improve")
        return LiveSpec(int(version["version"]), str(version["spec_yaml"]))

    return run_in_transaction(ws.engine, use_case)


def feedback_outputs(responses: list[FeedbackResponse]) -> dict[str, Any]:
    ratings = [r.rating for r in responses if r.rating is not None]
    nps = net_promoter_score([r.nps for r in responses if r.nps is not None])
    comments = [r.comment for r in responses if r.comment]
    themes = recurring_themes(comments)
    average = average_rating(ratings)
    return {
        "responses": len(responses),
        "ratings": len(ratings),
        "average_rating": None if average is None else str(average),
        "rating_counts": {str(k): v for k, v in rating_counts(ratings).items()},
        "nps": {
            "answers": nps.answers,
            "promoters": nps.promoters,
            "passives": nps.passives,
            "detractors": nps.detractors,
            "score": str(nps.score),
        },
        "comments": len(comments),
        "themes": [
            {
                "code": found.theme.code,
                "name_zh": found.theme.name_zh,
                "name_en": found.theme.name_en,
                "comments": found.comments,
                "examples": list(found.examples),
            }
            for found in themes
        ],
    }


def minutes_outputs(minutes: Minutes, kpis: dict[str, Any]) -> dict[str, Any]:
    """The minutes as recorded, with the KPIs of the run's business date attached."""
    return {
        "title": minutes.title,
        "held_on": minutes.held_on.isoformat(),
        "chair": minutes.chair,
        "attendees": list(minutes.attendees),
        "findings": list(minutes.findings),
        "decisions": [
            {
                "decision": d.decision,
                "owner": d.owner,
                "due": d.due.isoformat() if d.due else None,
            }
            for d in minutes.decisions
        ],
        "kpis": {
            "as_of": kpis["as_of"],
            "version": kpis["version"],
            **{k: kpis["kpis"][k] for k in ATTACHED_KPIS},
        },
        "alerts": kpis["alerts"],
    }


def plan_outputs(
    live: LiveSpec,
    plan: ImprovementPlan,
    source: CapturedInput,
    policy: Policy,
    code: str,
    run_id: int,
) -> dict[str, Any]:
    """The plan applied to a copy of the live spec, checked against the policy."""
    header = (
        f"# {code} v{live.version + 1}, proposed by improvement run {run_id}: {plan.title}\n"
        f"# A copy of v{live.version}'s spec with the plan's {len(plan.changes)} changes"
        " applied.\n"
    )
    text, spec, changes = apply_plan(live.spec_yaml, plan, source, header)
    problems = policy_problems(spec, policy, "proposed spec")
    return {
        "title": plan.title,
        "from_version": live.version,
        "changes": changes,
        "proposed_spec": text,
        "proposed_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "policy_problems": problems,
    }


def improve_criteria(outputs: dict[str, Any]) -> list[Criterion]:
    feedback = outputs["feedback"]
    decisions = outputs["minutes"]["decisions"]
    unowned = [i + 1 for i, d in enumerate(decisions) if not d["owner"] or not d["due"]]
    changes = outputs["plan"]["changes"]
    untraced = [c["path"] for c in changes if not c["why"].strip()]
    problems = outputs["plan"]["policy_problems"]
    return [
        Criterion(
            "feedback_collected",
            feedback["responses"] >= MIN_FEEDBACK,
            f"{feedback['responses']} answer sheets (at least {MIN_FEEDBACK}); NPS"
            f" {feedback['nps']['score']} from {feedback['nps']['answers']} answers",
            {
                "responses": feedback["responses"],
                "minimum": MIN_FEEDBACK,
                "nps": feedback["nps"]["score"],
                "answers": feedback["nps"]["answers"],
            },
        ),
        Criterion(
            "decisions_owned",
            not unowned,
            f"{len(decisions)} decisions, each with an owner and a due date"
            if not unowned
            else f"decisions without an owner or a due date: {', '.join(map(str, unowned))}",
            {"decisions": len(decisions), "unowned": unowned},
        ),
        Criterion(
            "changes_explained",
            bool(changes) and not untraced,
            f"{len(changes)} spec changes, each saying why"
            if changes and not untraced
            else (
                "the plan proposes no spec change"
                if not changes
                else f"changes without a reason: {', '.join(untraced)}"
            ),
            {"changes": len(changes), "untraced": untraced},
        ),
        Criterion(
            "proposed_spec_within_policy",
            not problems,
            "the proposed spec passes the policy's limits" if not problems else "; ".join(problems),
            {"messages": list(problems)},
        ),
    ]


def _shown(value: Any) -> str:
    """A spec value as changed: a dash for none, lists and mappings item by item."""
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


@dataclass(frozen=True)
class ThemeRow:
    code: str
    name_zh: str
    name_en: str
    comments: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Feedback:
    responses: int
    ratings: int
    average_rating: Decimal | None
    nps_answers: int
    promoters: int
    passives: int
    detractors: int
    nps: Decimal
    themes: tuple[ThemeRow, ...]


@dataclass(frozen=True)
class Decision:
    decision: str
    owner: str | None
    due: date | None


@dataclass(frozen=True)
class MinutesData:
    """The minutes as the committee wrote them, and the KPIs of the day attached."""

    title: str
    held_on: date
    chair: str | None
    attendees: tuple[str, ...]
    findings: tuple[str, ...]
    decisions: tuple[Decision, ...]
    kpis_as_of: date
    kpis: tuple[tuple[str, str, Any], ...]


@dataclass(frozen=True)
class Change:
    path: str
    before: str
    after: str
    why: str


@dataclass(frozen=True)
class ImproveData:
    feedback: Feedback
    minutes: MinutesData
    plan_title: str
    from_version: int
    changes: tuple[Change, ...]
    proposed_sha256: str


def improve_report(ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]) -> Report:
    feedback, minutes, plan = outputs["feedback"], outputs["minutes"], outputs["plan"]
    data = ImproveData(
        feedback=_feedback(feedback),
        minutes=_minutes(minutes),
        plan_title=plan["title"],
        from_version=plan["from_version"],
        changes=tuple(
            Change(c["path"], _shown(c["from"]), _shown(c["to"]), c["why"]) for c in plan["changes"]
        ),
        proposed_sha256=plan["proposed_sha256"],
    )
    charts: list[Chart] = [
        BarChart(
            "ratings",
            tuple(f"{k}★" for k in feedback["rating_counts"]),
            tuple(feedback["rating_counts"].values()),
        )
    ]
    if feedback["themes"]:
        charts.append(
            BarChart(
                "themes",
                tuple(th["code"] for th in feedback["themes"]),
                tuple(th["comments"] for th in feedback["themes"]),
                names="THEMES",
            )
        )
    return stage_report(ctx, data, criteria, charts)


def _feedback(feedback: dict[str, Any]) -> Feedback:
    nps = feedback["nps"]
    average = feedback["average_rating"]
    return Feedback(
        responses=feedback["responses"],
        ratings=feedback["ratings"],
        average_rating=None if average is None else Decimal(average),
        nps_answers=nps["answers"],
        promoters=nps["promoters"],
        passives=nps["passives"],
        detractors=nps["detractors"],
        nps=Decimal(nps["score"]),
        themes=tuple(
            ThemeRow(
                th["code"], th["name_zh"], th["name_en"], th["comments"], tuple(th["examples"])
            )
            for th in feedback["themes"]
        ),
    )


def _minutes(minutes: dict[str, Any]) -> MinutesData:
    kinds = dict(KPI_ROWS)
    kpis = minutes["kpis"]
    return MinutesData(
        title=minutes["title"],
        held_on=date.fromisoformat(minutes["held_on"]),
        chair=minutes["chair"] or None,
        attendees=tuple(minutes["attendees"]),
        findings=tuple(minutes["findings"]),
        decisions=tuple(
            Decision(
                d["decision"],
                d["owner"] or None,
                date.fromisoformat(d["due"]) if d["due"] else None,
            )
            for d in minutes["decisions"]
        ),
        kpis_as_of=date.fromisoformat(kpis["as_of"]),
        kpis=tuple((key, kinds[key], typed(kpis[key], kinds[key])) for key in ATTACHED_KPIS),
    )


def version_spec(ws: Workspace, actor: Actor, code: str, version: int) -> tuple[str, str]:
    """The spec of a version: its own once its design passed, else the one an improvement
    proposed for it (what its design run takes as input). Returns (text, where from)."""
    actor.require(Permission.READ, "read products")

    def use_case(uow: UnitOfWork) -> tuple[str, str]:
        chosen = next(
            (v for v in lifecycle_rows.versions_of(uow, code) if v["version"] == version), None
        )
        if chosen is None:
            records.product_row(uow, code)
            raise NotFound(f"product {code} has no version {version}")
        if chosen["spec_yaml"]:
            return str(chosen["spec_yaml"]), f"the spec of {code} v{version}"
        origin = lifecycle_rows.version_origin(uow, chosen["id"])
        if origin is None:
            raise NotFound(f"{code} v{version} has no spec yet (its design has not passed)")
        return (
            str(origin["proposed_spec"]),
            f"the spec proposed for {code} v{version} by improvement run {origin['run_id']}",
        )

    return run_in_transaction(ws.engine, use_case)
