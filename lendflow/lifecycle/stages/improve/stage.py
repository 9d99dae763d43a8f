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
from lendflow.lifecycle.reports import chart, report_view, t
from lendflow.lifecycle.results import RunContext
from lendflow.lifecycle.stages.improve.inputs import ImprovementPlan, Minutes, apply_plan
from lendflow.rendering.charts import bar_chart
from lendflow.rendering.formats import ratio_percent as _percent
from lendflow.rendering.reports import ReportSection, ReportTable, ReportView
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
        ),
        Criterion(
            "decisions_owned",
            not unowned,
            f"{len(decisions)} decisions, each with an owner and a due date"
            if not unowned
            else f"decisions without an owner or a due date: {', '.join(map(str, unowned))}",
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
        ),
        Criterion(
            "proposed_spec_within_policy",
            not problems,
            "the proposed spec passes the policy's limits" if not problems else "; ".join(problems),
        ),
    ]


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def improve_report(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]
) -> ReportView:
    loc = ctx.locale
    feedback, minutes, plan = outputs["feedback"], outputs["minutes"], outputs["plan"]
    nps = feedback["nps"]
    themes = feedback["themes"]
    feedback_section = ReportSection(
        heading=t(loc, "客户反馈", "Customer feedback"),
        paragraphs=(
            t(
                loc,
                f"共 {feedback['responses']} 份反馈，{feedback['ratings']} 份评分（平均"
                f" {_shown(feedback['average_rating'])} 分），{nps['answers']} 份推荐意愿回答："
                f"推荐者 {nps['promoters']}、中立者 {nps['passives']}、贬损者 {nps['detractors']}，"
                f"净推荐值（NPS）{nps['score']}。",
                f"{feedback['responses']} answer sheets, {feedback['ratings']} ratings (average"
                f" {_shown(feedback['average_rating'])}), {nps['answers']} NPS answers:"
                f" {nps['promoters']} promoters, {nps['passives']} passives,"
                f" {nps['detractors']} detractors; NPS {nps['score']}.",
            ),
        ),
        tables=(
            ReportTable(
                caption=t(loc, "反复出现的主题", "Recurring themes"),
                columns=(
                    t(loc, "主题", "Theme"),
                    t(loc, "提及条数", "Comments"),
                    t(loc, "例句", "For example"),
                ),
                rows=tuple(
                    (
                        th["name_en"] if loc == "en" else th["name_zh"],
                        str(th["comments"]),
                        " / ".join(th["examples"]),
                    )
                    for th in themes
                ),
            ),
        ),
        charts=(
            chart(
                t(loc, "评分分布", "Ratings"),
                bar_chart(
                    t(loc, "评分分布（份）", "Ratings given (answer sheets)"),
                    [f"{k}★" for k in feedback["rating_counts"]],
                    list(feedback["rating_counts"].values()),
                ),
            ),
            *(
                (
                    chart(
                        t(loc, "反馈主题", "Themes"),
                        bar_chart(
                            t(loc, "各主题提及条数", "Comments per theme"),
                            [th["name_en"] if loc == "en" else th["name_zh"] for th in themes],
                            [th["comments"] for th in themes],
                        ),
                    ),
                )
                if themes
                else ()
            ),
        ),
    )
    kpis = minutes["kpis"]
    minutes_section = ReportSection(
        heading=t(loc, "内部评审纪要", "Internal review minutes"),
        paragraphs=(
            f"{minutes['title']} · {minutes['held_on']}"
            + (f" · {t(loc, '主持', 'chair')}: {minutes['chair']}" if minutes["chair"] else ""),
            *(
                (t(loc, "参会：", "Attendees: ") + "、".join(minutes["attendees"]),)
                if minutes["attendees"]
                else ()
            ),
            *minutes["findings"],
        ),
        tables=(
            ReportTable(
                caption=t(loc, "决定", "Decisions"),
                columns=(
                    "#",
                    t(loc, "决定", "Decision"),
                    t(loc, "负责人", "Owner"),
                    t(loc, "完成期限", "Due"),
                ),
                rows=tuple(
                    (str(i), d["decision"], d["owner"] or "—", d["due"] or "—")
                    for i, d in enumerate(minutes["decisions"], 1)
                ),
            ),
            ReportTable(
                caption=t(
                    loc,
                    f"附：截至 {kpis['as_of']} 的指标",
                    f"Attached: KPIs as of {kpis['as_of']}",
                ),
                columns=(t(loc, "指标", "KPI"), t(loc, "数值", "Value")),
                rows=tuple(
                    (
                        key,
                        _percent(kpis[key])
                        if key in ("approval_rate", "par30", "non_performing_ratio")
                        else str(kpis[key]),
                    )
                    for key in ATTACHED_KPIS
                ),
            ),
        ),
    )
    plan_section = ReportSection(
        heading=t(loc, "改进计划", "Improvement plan"),
        paragraphs=(
            t(
                loc,
                f"{plan['title']}：在 v{plan['from_version']} 规格的副本上做以下"
                f" {len(plan['changes'])} 项修改。委员会在本闸门决定 recycle --to design 后，"
                f"该副本成为 v{plan['from_version'] + 1}，进入产品设计阶段；"
                f"v{plan['from_version']} 继续受理申请，直至新版本上线。",
                f"{plan['title']}: {len(plan['changes'])} changes to a copy of"
                f" v{plan['from_version']}'s spec. When the committee recycles this gate to"
                f" design, the copy becomes v{plan['from_version'] + 1} and enters design;"
                f" v{plan['from_version']} keeps taking applications until it launches.",
            ),
            f"SHA-256 {plan['proposed_sha256']}",
        ),
        tables=(
            ReportTable(
                columns=(
                    t(loc, "字段", "Field"),
                    t(loc, "原值", "From"),
                    t(loc, "新值", "To"),
                    t(loc, "理由", "Why"),
                ),
                rows=tuple(
                    (c["path"], _shown(c["from"]), _shown(c["to"]), c["why"])
                    for c in plan["changes"]
                ),
            ),
        ),
    )
    return report_view(
        ctx,
        (feedback_section, minutes_section, plan_section),
        criteria,
        summary=(
            ("NPS", nps["score"]),
            (t(loc, "平均评分", "Average rating"), _shown(feedback["average_rating"])),
            (t(loc, "规格修改", "Spec changes"), str(len(plan["changes"]))),
        ),
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
