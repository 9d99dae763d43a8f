"""The stages of the product lifecycle, their inputs and their shipped samples.

The order of the stages is the product machine's chain of `go` moves; this
catalogue adds what the machine does not know: what each stage reads and where
its sample inputs live. A stage with no inputs here takes none.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lendflow.domain.errors import BadInput


@dataclass(frozen=True)
class StageInput:
    """One named input of a stage: a file the product manager gives or the sample."""

    name: str
    sample: str
    description: str

    def sample_path(self) -> Path:
        return samples_folder() / self.sample


@dataclass(frozen=True)
class Stage:
    """A stage of the lifecycle. A `live` stage runs on the live version, as often as
    needed, and a go at its gate keeps the version live; the others run in the pipeline,
    on the version in development, and their gates move it on."""

    id: str
    number: int
    name_zh: str
    name_en: str
    inputs: tuple[StageInput, ...] = ()
    live: bool = False

    def input(self, name: str) -> StageInput:
        for item in self.inputs:
            if item.name == name:
                return item
        known = ", ".join(i.name for i in self.inputs) or "none"
        raise BadInput(f"stage {self.id} has no input {name!r} (its inputs: {known})")


STAGES: tuple[Stage, ...] = (
    Stage(
        "charter",
        1,
        "制定目的及范围",
        "Charter",
        (StageInput("charter", "charter.yaml", "objective, target segments, scope (YAML)"),),
    ),
    Stage(
        "research",
        2,
        "市场调研与需求分析",
        "Market research",
        (
            StageInput("survey", "survey.csv", "target-customer survey responses (CSV)"),
            StageInput("competitors", "competitors.csv", "competing products (CSV)"),
            StageInput("market", "market.csv", "monthly market series (CSV)"),
        ),
    ),
    Stage(
        "design",
        3,
        "产品设计与开发",
        "Design",
        (StageInput("spec", "product-spec.yaml", "the product spec (YAML)"),),
    ),
    Stage("build_test", 4, "系统开发与测试", "Build and test"),
    Stage(
        "launch",
        5,
        "产品推广与市场营销",
        "Launch",
        (
            StageInput("channels", "channels.csv", "acquisition channels: cost, conversion, fit"),
            StageInput("campaigns", "campaigns.yaml", "channel budget and campaigns (YAML)"),
        ),
    ),
)
STAGE_IDS: tuple[str, ...] = tuple(s.id for s in STAGES)
LIVE_STAGES: tuple[Stage, ...] = (
    Stage("operate", 6, "运营管理与监控", "Operation", live=True),
    Stage(
        "improve",
        7,
        "反馈与改进机制",
        "Improvement",
        (
            StageInput("feedback", "feedback.csv", "customer ratings, NPS answers, comments (CSV)"),
            StageInput("minutes", "review-minutes.yaml", "internal review minutes (YAML)"),
            StageInput("plan", "improvement-plan.yaml", "proposed spec changes (YAML)"),
        ),
        live=True,
    ),
)
"""Stages 6 and 7 repeat while a version is live; they run on the live version, not in the
pipeline, and a go at their gates keeps it live (see live_stages)."""
HELD_SUFFIX = "_on_hold"


def stage(stage_id: str) -> Stage:
    for item in (*STAGES, *LIVE_STAGES):
        if item.id == stage_id:
            return item
    known = ", ".join((*STAGE_IDS, *(s.id for s in LIVE_STAGES)))
    raise BadInput(f"no stage {stage_id!r} (stages: {known})")


def earlier(stage_id: str) -> tuple[str, ...]:
    """The stages before `stage_id`: where a recycle from it may go."""
    return STAGE_IDS[: STAGE_IDS.index(stage_id)]


def held_stage(state: str) -> str | None:
    """The stage a held product waits at (`research_on_hold` -> `research`), else None."""
    if state.endswith(HELD_SUFFIX):
        return state.removesuffix(HELD_SUFFIX)
    return None


def samples_folder() -> Path:
    return Path(str(resources.files("lendflow.config").joinpath("samples")))
