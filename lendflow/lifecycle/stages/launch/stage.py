"""Stage 5, launch (产品推广与市场营销): channels, campaigns and customer education.

The channels are ranked and the channel budget spent down the ranking (see
domain.channels); the campaigns become promotion rules the loan engine applies
(see loans.promotions) once this run passes the launch gate, each while it
runs and its budget lasts; the education material is rendered for customers in
every locale. When the launch goes, the version goes live.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.product_spec import ProductSpec
from lendflow.domain.channels import Channel, PlannedChannel, plan_channels
from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.promotions import ScheduledInterest, interest_free_waivers
from lendflow.domain.schedule import generate
from lendflow.lifecycle import records
from lendflow.lifecycle.reports import chart, percent, report_view, t, yuan
from lendflow.lifecycle.results import RunContext
from lendflow.lifecycle.stages.launch.inputs import LaunchCampaigns
from lendflow.products.catalogue import spec_of
from lendflow.rendering.campaigns import (
    CampaignView,
    EducationView,
    render_campaign_document,
)
from lendflow.rendering.charts import bar_chart
from lendflow.rendering.filters import percent as shown_percent
from lendflow.rendering.reports import ReportSection, ReportTable, ReportView
from lendflow.store import campaigns as campaign_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

LOCALES = ("zh-CN", "en")
EDUCATION_FORMATS = ("md", "html")


@dataclass(frozen=True)
class LaunchContext:
    """What the launch works from: the version's spec and the charter's target segments."""

    code: str
    version: int
    version_id: int
    spec_yaml: str
    spec_sha256: str
    targets: tuple[str, ...]
    segment_names: dict[str, str]
    charter_run: int

    @property
    def spec(self) -> ProductSpec:
        return spec_of({"spec_sha256": self.spec_sha256, "spec_yaml": self.spec_yaml})


def launch_context(ws: Workspace, code: str) -> LaunchContext:
    """The version in development's spec (set when its design passed) and its charter."""

    def use_case(uow: UnitOfWork) -> LaunchContext:
        version = records.pipeline_version(uow, code)
        if version["spec_yaml"] is None:
            raise Refused(f"{records.label(version)} has no spec; its design must pass first")
        charter = records.passed_run(uow, version["id"], "charter")
        if charter is None:
            raise Refused(f"{records.label(version)}: charter has not passed its gate")
        segments = records.loads(charter["outputs"])["target_segments"]
        return LaunchContext(
            code=code,
            version=int(version["version"]),
            version_id=int(version["id"]),
            spec_yaml=version["spec_yaml"],
            spec_sha256=version["spec_sha256"],
            targets=tuple(s["code"] for s in segments),
            segment_names={s["code"]: s["name"] for s in segments},
            charter_run=int(charter["id"]),
        )

    return run_in_transaction(ws.engine, use_case)


# --- channels -----------------------------------------------------------------------------


def channel_outputs(
    channels: list[Channel], budget: int, targets: tuple[str, ...]
) -> dict[str, Any]:
    plan = plan_channels(channels, budget, targets)
    segments = sorted({s for c in channels for s in c.fit})
    return {
        "budget": budget,
        "cost": plan.cost,
        "applications": plan.applications,
        "target_applications": plan.target_applications,
        "targets": list(targets),
        "by_segment": {s: plan.by_segment(s) for s in segments},
        "channels": [_planned(c, channels) for c in plan.channels],
    }


def _planned(planned: PlannedChannel, channels: list[Channel]) -> dict[str, Any]:
    source = next(c for c in channels if c.code == planned.code)
    return {
        "rank": planned.rank,
        "channel": planned.code,
        "name": planned.name,
        "cost_per_acquisition": source.cost_per_acquisition,
        "conversion": str(source.conversion),
        "capacity": source.capacity,
        "target_fit": str(planned.target_fit),
        "acquisitions": planned.acquisitions,
        "cost": planned.cost,
        "applications": planned.applications,
        "target_applications": planned.target_applications,
        "cost_per_application": planned.cost_per_application,
        "funded": planned.funded,
    }


# --- campaigns ----------------------------------------------------------------------------


def example_waiver(spec: ProductSpec, free_days: int, on: date) -> tuple[int, int, int, int]:
    """The product's example loan paid out on `on`: (principal, term, interest, waived)."""
    from lendflow.rendering.product_views import example_loan

    amount, term = example_loan(spec)
    schedule = generate(spec.schedule_terms(amount, term, on))
    items = [ScheduledInterest(i.n, i.due_date, i.interest) for i in schedule.instalments]
    waived = sum(interest_free_waivers(on, items, free_days).values())
    return amount, term, schedule.total_interest, waived


def campaign_outputs(
    given: LaunchCampaigns, spec: ProductSpec, as_of: date
) -> list[dict[str, Any]]:
    """Each campaign as stored with the run: dates filled in, the example loan's waiver."""
    shown = []
    for campaign in given.campaigns:
        example = (
            example_waiver(spec, campaign.free_days, as_of)
            if campaign.free_days is not None
            else None
        )
        shown.append(
            {
                "code": campaign.code,
                "kind": campaign.kind,
                "name_zh": campaign.name.zh_CN,
                "name_en": campaign.name.en,
                "budget": campaign.budget,
                "starts_on": (campaign.starts_on or as_of).isoformat(),
                "ends_on": campaign.ends_on.isoformat(),
                "free_days": campaign.free_days,
                "reward": campaign.reward,
                "example": None
                if example is None
                else {
                    "principal": example[0],
                    "term": example[1],
                    "interest": example[2],
                    "waived": example[3],
                },
            }
        )
    return shown


def store_campaigns(
    ws: Workspace, run_id: int, version_id: int, code: str, campaigns: list[dict[str, Any]]
) -> list[int]:
    """Keep the run's campaigns as promotion rules (once per run: a retried step adds none).

    They apply only once this run has passed the launch gate.
    """

    def use_case(uow: UnitOfWork) -> list[int]:
        existing = campaign_store.run_campaign_ids(uow, run_id)
        if existing:
            return existing
        ids = []
        for c in campaigns:
            ids.append(
                campaign_store.add_campaign(
                    uow,
                    {
                        "product_code": code,
                        "version_id": version_id,
                        "run_id": run_id,
                        "code": c["code"],
                        "kind": c["kind"],
                        "name_zh": c["name_zh"],
                        "name_en": c["name_en"],
                        "free_days": c["free_days"],
                        "reward": c["reward"],
                        "budget": c["budget"],
                        "spent": 0,
                        "starts_on": date.fromisoformat(c["starts_on"]),
                        "ends_on": date.fromisoformat(c["ends_on"]),
                    },
                )
            )
        return ids

    return run_in_transaction(ws.engine, use_case)


# --- customer education -------------------------------------------------------------------


def education_view(
    ws: Workspace,
    spec: ProductSpec,
    version: int,
    campaigns: list[dict[str, Any]],
    locale: str,
    as_of: date,
) -> EducationView:
    from lendflow.rendering.lender import lender_view
    from lendflow.rendering.product_views import product_view

    return EducationView(
        product=product_view(spec, ws.policy, locale=locale, version=version, example_on=as_of),
        lender=lender_view(locale, ws.settings.templates),
        as_of=as_of,
        apr_cap=ws.policy.apr_cap.limit,
        campaigns=tuple(
            CampaignView(
                code=c["code"],
                kind=c["kind"],
                name=c["name_en"] if locale == "en" else c["name_zh"],
                starts_on=date.fromisoformat(c["starts_on"]),
                ends_on=date.fromisoformat(c["ends_on"]),
                free_days=c["free_days"] or 0,
                reward=c["reward"] or 0,
                example_waiver=c["example"]["waived"] if c["example"] else 0,
            )
            for c in campaigns
            if date.fromisoformat(c["ends_on"]) >= as_of
        ),
    )


def education_documents(
    ws: Workspace, spec: ProductSpec, version: int, campaigns: list[dict[str, Any]], as_of: date
) -> dict[str, dict[str, dict[str, Any]]]:
    """The education material in every locale and text format, with SHA-256 and size."""
    documents: dict[str, dict[str, dict[str, Any]]] = {}
    for locale in LOCALES:
        view = education_view(ws, spec, version, campaigns, locale, as_of)
        documents[locale] = {}
        for fmt in EDUCATION_FORMATS:
            content = render_campaign_document(
                "education", view, locale=locale, fmt=fmt, templates=ws.settings.templates
            )
            documents[locale][fmt] = {
                "sha256": hashlib.sha256(content).hexdigest(),
                "bytes": len(content),
                "text": content.decode("utf-8"),
            }
    return documents


def education_material(
    ws: Workspace, actor: Actor, code: str, locale: str, fmt: str
) -> tuple[int, bytes]:
    """The education material of the newest successful launch run of `code`, as rendered."""
    from lendflow.lifecycle.live_stages import run_outputs

    actor.require(Permission.READ, "read launch material")
    if fmt not in EDUCATION_FORMATS:
        raise BadInput(f"the education material is kept as {' or '.join(EDUCATION_FORMATS)}")
    if locale not in LOCALES:
        raise BadInput(f"unknown locale {locale!r} (choose {' or '.join(LOCALES)})")
    run_id, outputs = run_outputs(ws, actor, code, "launch")
    kept = outputs["education"][locale]
    return run_id, kept[fmt]["text"].encode("utf-8")


# --- gate criteria and report -------------------------------------------------------------


def launch_criteria(outputs: dict[str, Any], as_of: date) -> list[Criterion]:
    channels = outputs["channels"]
    funded = [c for c in channels["channels"] if c["funded"]]
    reach = {s: channels["by_segment"].get(s, 0) for s in channels["targets"]}
    unreached = [s for s, n in reach.items() if n <= 0]
    campaigns = outputs["campaigns"]
    over = [c["code"] for c in campaigns if date.fromisoformat(c["ends_on"]) < as_of]
    education = outputs["education"]
    complete = [
        locale
        for locale, docs in education.items()
        if all(outputs["apr_range"][0] in d["text"] for d in docs.values())
    ]
    return [
        Criterion(
            "channel_plan_funded",
            bool(funded) and channels["cost"] <= channels["budget"],
            f"{len(funded)} of {len(channels['channels'])} channels funded; cost"
            f" {yuan(channels['cost'])} of the budget {yuan(channels['budget'])} yuan",
        ),
        Criterion(
            "target_segments_reached",
            bool(reach) and not unreached,
            ", ".join(f"{s} {n}" for s, n in reach.items()) + " expected applications"
            if reach
            else "the charter names no target segment",
        ),
        Criterion(
            "campaigns_in_force",
            not over,
            f"{len(campaigns)} campaigns; ended before the launch: {', '.join(over)}"
            if over
            else f"{len(campaigns)} campaigns, every one running on or after {as_of}",
        ),
        Criterion(
            "education_material_complete",
            sorted(complete) == sorted(LOCALES),
            f"rendered in {', '.join(sorted(education))}, Markdown and HTML, each stating the"
            f" APR range {outputs['apr_range'][0]} – {outputs['apr_range'][1]}",
        ),
    ]


def launch_outputs(
    context: LaunchContext,
    channels: dict[str, Any],
    campaigns: list[dict[str, Any]],
    education: dict[str, dict[str, dict[str, Any]]],
    apr_range: tuple[Decimal, Decimal],
) -> dict[str, Any]:
    return {
        "version": context.version,
        "spec_sha256": context.spec_sha256,
        "charter_run": context.charter_run,
        "channels": channels,
        "campaigns": campaigns,
        "education": education,
        "apr_range": [shown_percent(apr_range[0]), shown_percent(apr_range[1])],
    }


def _campaign_terms(c: dict[str, Any], loc: str) -> str:
    if c["kind"] == "first_loan_interest_free":
        return t(
            loc, f"首笔借款前 {c['free_days']} 天免息", f"first loan: {c['free_days']} days free"
        )
    return t(loc, f"推荐奖励 {yuan(c['reward'])} 元", f"referral reward CNY {yuan(c['reward'])}")


def launch_report(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion], names: dict[str, str]
) -> ReportView:
    loc = ctx.locale
    channels = outputs["channels"]
    rows = tuple(
        (
            str(c["rank"]),
            f"{c['name']} ({c['channel']})",
            yuan(c["cost_per_acquisition"]),
            percent(c["conversion"]),
            percent(c["target_fit"]),
            f"{c['acquisitions']:,}",
            yuan(c["cost"]),
            f"{c['applications']:,}",
            f"{c['target_applications']:,}",
            "—" if c["cost_per_application"] is None else yuan(c["cost_per_application"]),
        )
        for c in channels["channels"]
    )
    funded = [c for c in channels["channels"] if c["funded"]]
    plan_section = ReportSection(
        heading=t(loc, "渠道计划", "Channel plan"),
        paragraphs=(
            t(
                loc,
                f"按每元获得的目标客群申请数排序，渠道预算 {yuan(channels['budget'])} 元依次投放，"
                f"计划花费 {yuan(channels['cost'])} 元，预计申请 {channels['applications']:,} 笔，"
                f"其中目标客群 {channels['target_applications']:,} 笔。",
                f"Channels ranked by target-segment applications per yuan; the budget of CNY"
                f" {yuan(channels['budget'])} is spent down the ranking: CNY"
                f" {yuan(channels['cost'])} planned for {channels['applications']:,} expected"
                f" applications, {channels['target_applications']:,} from the target segments.",
            ),
        ),
        tables=(
            ReportTable(
                columns=(
                    "#",
                    t(loc, "渠道", "Channel"),
                    t(loc, "获客成本（元）", "Cost per acquisition"),
                    t(loc, "转化率", "Conversion"),
                    t(loc, "目标客群占比", "Target fit"),
                    t(loc, "获客数", "Acquisitions"),
                    t(loc, "费用（元）", "Cost"),
                    t(loc, "预计申请", "Applications"),
                    t(loc, "目标客群申请", "Target applications"),
                    t(loc, "单笔申请成本（元）", "Cost per application"),
                ),
                rows=rows,
            ),
        ),
        charts=(
            chart(
                t(loc, "各渠道预计申请数", "Expected applications by channel"),
                bar_chart(
                    t(loc, "各渠道预计申请数（笔）", "Expected applications by channel"),
                    [c["name"] for c in funded] or ["—"],
                    [c["applications"] for c in funded] or [0],
                ),
            ),
        ),
    )
    segments = channels["by_segment"]
    reach_section = ReportSection(
        heading=t(loc, "客群覆盖", "Segment reach"),
        tables=(
            ReportTable(
                columns=(
                    t(loc, "客群", "Segment"),
                    t(loc, "目标客群", "Target"),
                    t(loc, "预计申请", "Expected applications"),
                ),
                rows=tuple(
                    (
                        f"{names.get(s, s)} ({s})",
                        t(loc, "是", "yes") if s in channels["targets"] else "",
                        f"{n:,}",
                    )
                    for s, n in segments.items()
                ),
            ),
        ),
        charts=(
            chart(
                t(loc, "各客群预计申请数", "Expected applications by segment"),
                bar_chart(
                    t(loc, "各客群预计申请数（笔）", "Expected applications by segment"),
                    [names.get(s, s) for s in segments] or ["—"],
                    list(segments.values()) or [0],
                    highlight=[i for i, s in enumerate(segments) if s in channels["targets"]],
                ),
            ),
        ),
    )
    campaigns = outputs["campaigns"]
    campaign_section = ReportSection(
        heading=t(loc, "推广活动", "Campaigns"),
        paragraphs=(
            t(
                loc,
                "活动在本次运行通过上线闸门后由放款引擎自动执行：活动期内、预算未用完时适用；"
                "首单免息的利息减免记入营销费用，推荐奖励在被推荐人放款时发放并记入营销费用。",
                "The loan engine applies the campaigns once this run passes the launch gate,"
                " while they run and their budgets last; waived interest and referral rewards"
                " are booked as marketing expense.",
            ),
        ),
        tables=(
            ReportTable(
                columns=(
                    t(loc, "活动", "Campaign"),
                    t(loc, "内容", "Terms"),
                    t(loc, "预算（元）", "Budget"),
                    t(loc, "开始", "From"),
                    t(loc, "结束", "To"),
                    t(loc, "示例借款免息（元）", "Example waiver"),
                ),
                rows=tuple(
                    (
                        f"{c['name_en'] if loc == 'en' else c['name_zh']} ({c['code']})",
                        _campaign_terms(c, loc),
                        yuan(c["budget"]),
                        c["starts_on"],
                        c["ends_on"],
                        yuan(c["example"]["waived"]) if c["example"] else "—",
                    )
                    for c in campaigns
                ),
            ),
        ),
    )
    education = outputs["education"]
    education_section = ReportSection(
        heading=t(loc, "客户教育材料", "Customer education"),
        paragraphs=(
            t(
                loc,
                f"借款须知已按 {', '.join(education)} 生成（Markdown 与 HTML），"
                f"导出：lendflow stage education {ctx.code} --locale zh-CN --out 文件。",
                f"The education material is rendered in {', '.join(education)} (Markdown and"
                f" HTML); export it with lendflow stage education {ctx.code} --locale en"
                " --out FILE.",
            ),
        ),
        tables=(
            ReportTable(
                columns=(
                    t(loc, "语言", "Locale"),
                    t(loc, "格式", "Format"),
                    t(loc, "字节", "Bytes"),
                    "SHA-256",
                ),
                rows=tuple(
                    (locale, fmt, f"{doc['bytes']:,}", doc["sha256"])
                    for locale, docs in education.items()
                    for fmt, doc in docs.items()
                ),
            ),
        ),
    )
    return report_view(
        ctx,
        (plan_section, reach_section, campaign_section, education_section),
        criteria,
        summary=(
            (t(loc, "渠道预算（元）", "Channel budget"), yuan(channels["budget"])),
            (t(loc, "预计申请", "Expected applications"), f"{channels['applications']:,}"),
            (t(loc, "推广活动", "Campaigns"), str(len(campaigns))),
        ),
    )
