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
from lendflow.lifecycle.reports import stage_report
from lendflow.lifecycle.results import RunContext
from lendflow.lifecycle.stages.launch.inputs import LaunchCampaigns
from lendflow.products.catalogue import spec_of
from lendflow.rendering.campaigns import (
    CampaignView,
    EducationView,
    render_campaign_document,
)
from lendflow.rendering.filters import percent as shown_percent
from lendflow.rendering.formats import yuan
from lendflow.rendering.reports import BarChart, Report
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
        product=product_view(
            spec, ws.policy, locale=locale, version=version, example_on=as_of, calendar=ws.calendar
        ),
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
    ended = [c for c in campaigns if date.fromisoformat(c["ends_on"]) < as_of]
    over = [c["code"] for c in ended]
    education = outputs["education"]
    complete = [
        locale
        for locale, docs in education.items()
        if all(outputs["apr_range"][0] in d["text"] for d in docs.values())
    ]
    low, high = outputs["apr_range"]
    return [
        Criterion(
            "channel_plan_funded",
            bool(funded) and channels["cost"] <= channels["budget"],
            f"{len(funded)} of {len(channels['channels'])} channels funded; cost"
            f" {yuan(channels['cost'])} of the budget {yuan(channels['budget'])} yuan",
            {
                "funded": len(funded),
                "channels": len(channels["channels"]),
                "cost": channels["cost"],
                "budget": channels["budget"],
            },
        ),
        Criterion(
            "target_segments_reached",
            bool(reach) and not unreached,
            ", ".join(f"{s} {n}" for s, n in reach.items()) + " expected applications"
            if reach
            else "the charter names no target segment",
            {"reach": list(reach.items())},
        ),
        Criterion(
            "campaigns_in_force",
            not over,
            f"{len(campaigns)} campaigns; ended before the launch: {', '.join(over)}"
            if over
            else f"{len(campaigns)} campaigns, every one running on or after {as_of}",
            {
                "campaigns": len(campaigns),
                "ended": [[c["code"], c["name_zh"], c["name_en"]] for c in ended],
                "as_of": as_of.isoformat(),
            },
        ),
        Criterion(
            "education_material_complete",
            sorted(complete) == sorted(LOCALES),
            f"rendered in {', '.join(sorted(education))}, Markdown and HTML, each stating the"
            f" APR range {low} – {high}",
            {"locales": sorted(education), "apr_range": [low, high]},
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


@dataclass(frozen=True)
class ChannelRow:
    """A channel of the plan, ranked: amounts in fen, rates in percent."""

    rank: int
    code: str
    name: str
    cost_per_acquisition: int
    conversion: Decimal
    target_fit: Decimal
    acquisitions: int
    cost: int
    applications: int
    target_applications: int
    cost_per_application: int | None
    funded: bool


@dataclass(frozen=True)
class CampaignRow:
    code: str
    kind: str
    name_zh: str
    name_en: str
    budget: int
    starts_on: date
    ends_on: date
    free_days: int | None
    reward: int | None
    example_waived: int | None


@dataclass(frozen=True)
class KeptMaterial:
    locale: str
    fmt: str
    size: int
    sha256: str


@dataclass(frozen=True)
class LaunchData:
    code: str
    budget: int
    cost: int
    applications: int
    target_applications: int
    channels: tuple[ChannelRow, ...]
    reach: tuple[tuple[str, bool, int], ...]
    """(segment, whether the charter targets it, expected applications)."""
    campaigns: tuple[CampaignRow, ...]
    education: tuple[KeptMaterial, ...]
    segment_names: dict[str, str]

    def locales(self) -> list[str]:
        return list(dict.fromkeys(m.locale for m in self.education))


def launch_report(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion], names: dict[str, str]
) -> Report:
    channels = outputs["channels"]
    data = LaunchData(
        code=ctx.code,
        budget=channels["budget"],
        cost=channels["cost"],
        applications=channels["applications"],
        target_applications=channels["target_applications"],
        channels=tuple(_channel_row(c) for c in channels["channels"]),
        reach=tuple((s, s in channels["targets"], n) for s, n in channels["by_segment"].items()),
        campaigns=tuple(_campaign_row(c) for c in outputs["campaigns"]),
        education=tuple(
            KeptMaterial(locale, fmt, doc["bytes"], doc["sha256"])
            for locale, docs in outputs["education"].items()
            for fmt, doc in docs.items()
        ),
        segment_names=dict(names),
    )
    return stage_report(ctx, data, criteria, _charts(channels, names))


def _channel_row(c: dict[str, Any]) -> ChannelRow:
    return ChannelRow(
        rank=c["rank"],
        code=c["channel"],
        name=c["name"],
        cost_per_acquisition=c["cost_per_acquisition"],
        conversion=Decimal(c["conversion"]),
        target_fit=Decimal(c["target_fit"]),
        acquisitions=c["acquisitions"],
        cost=c["cost"],
        applications=c["applications"],
        target_applications=c["target_applications"],
        cost_per_application=c["cost_per_application"],
        funded=c["funded"],
    )


def _campaign_row(c: dict[str, Any]) -> CampaignRow:
    return CampaignRow(
        code=c["code"],
        kind=c["kind"],
        name_zh=c["name_zh"],
        name_en=c["name_en"],
        budget=c["budget"],
        starts_on=date.fromisoformat(c["starts_on"]),
        ends_on=date.fromisoformat(c["ends_on"]),
        free_days=c["free_days"],
        reward=c["reward"],
        example_waived=c["example"]["waived"] if c["example"] else None,
    )


def _charts(channels: dict[str, Any], names: dict[str, str]) -> tuple[BarChart, ...]:
    funded = [c for c in channels["channels"] if c["funded"]]
    segments = channels["by_segment"]
    return (
        BarChart(
            "channels",
            tuple(c["channel"] for c in funded) or ("—",),
            tuple(c["applications"] for c in funded) or (0,),
            names="CHANNELS",
            given={c["channel"]: c["name"] for c in funded},
        ),
        BarChart(
            "segments",
            tuple(segments) or ("—",),
            tuple(segments.values()) or (0,),
            highlight=tuple(i for i, s in enumerate(segments) if s in channels["targets"]),
            names="SEGMENTS",
            given=names,
        ),
    )
