"""Stage 1, charter (制定目的及范围): objective, target segments and scope → charter document.

The charter's target segments are what the research stage measures demand for
and what the design stage holds the product's amounts and instalments against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from lendflow.domain.criteria import Criterion
from lendflow.lifecycle.inputs import Charter
from lendflow.lifecycle.reports import stage_report
from lendflow.lifecycle.results import RunContext
from lendflow.rendering.reports import Report

MIN_OBJECTIVE_CHARACTERS = 10


def charter_outputs(charter: Charter) -> dict[str, Any]:
    return {
        "objective": charter.objective.strip(),
        "objective_en": charter.objective_en.strip(),
        "target_segments": [s.model_dump() for s in charter.target_segments],
        "scope": charter.scope.model_dump(),
        "success_measures": [m.model_dump() for m in charter.success_measures],
        "sponsor": charter.sponsor,
        "milestones": [{"name": m.name, "by": m.by.isoformat()} for m in charter.milestones],
    }


def charter_criteria(charter: Charter) -> list[Criterion]:
    objective = len(charter.objective.strip())
    segments = [s.code for s in charter.target_segments]
    scope = charter.scope
    measurable = sum(1 for m in charter.success_measures if m.measurable)
    return [
        Criterion(
            "objective_stated",
            objective >= MIN_OBJECTIVE_CHARACTERS,
            f"objective of {objective} characters (at least {MIN_OBJECTIVE_CHARACTERS})",
            {"length": objective, "minimum": MIN_OBJECTIVE_CHARACTERS},
        ),
        Criterion(
            "target_segments_named",
            bool(segments),
            f"{len(segments)} target segments: {', '.join(segments)}"
            if segments
            else "no target segment named",
            {"segments": segments},
        ),
        Criterion(
            "scope_bounded",
            bool(scope.in_scope) and bool(scope.out_of_scope),
            f"{len(scope.in_scope)} items in scope, {len(scope.out_of_scope)} out of scope"
            " (at least one of each)",
            {"in_scope": len(scope.in_scope), "out_of_scope": len(scope.out_of_scope)},
        ),
        Criterion(
            "success_measurable",
            measurable > 0,
            f"{measurable} of {len(charter.success_measures)} success measures have a"
            " numeric target (at least one)",
            {"measurable": measurable, "measures": len(charter.success_measures)},
        ),
    ]


@dataclass(frozen=True)
class Segment:
    code: str
    name: str
    description: str


@dataclass(frozen=True)
class Measure:
    name: str
    target: str
    unit: str


@dataclass(frozen=True)
class Milestone:
    name: str
    by: date


@dataclass(frozen=True)
class CharterData:
    """What the charter document shows; every text in it is the product manager's own."""

    objective: str
    objective_en: str
    sponsor: str | None
    segments: tuple[Segment, ...]
    in_scope: tuple[str, ...]
    out_of_scope: tuple[str, ...]
    measures: tuple[Measure, ...]
    milestones: tuple[Milestone, ...]

    def segment_names(self) -> dict[str, str]:
        return {s.code: s.name for s in self.segments}


def charter_report(ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]) -> Report:
    scope = outputs["scope"]
    data = CharterData(
        objective=outputs["objective"],
        objective_en=outputs["objective_en"],
        sponsor=outputs["sponsor"] or None,
        segments=tuple(
            Segment(s["code"], s["name"], s["description"]) for s in outputs["target_segments"]
        ),
        in_scope=tuple(scope["in_scope"]),
        out_of_scope=tuple(scope["out_of_scope"]),
        measures=tuple(
            Measure(m["name"], m["target"], m["unit"]) for m in outputs["success_measures"]
        ),
        milestones=tuple(
            Milestone(m["name"], date.fromisoformat(m["by"])) for m in outputs["milestones"]
        ),
    )
    return stage_report(ctx, data, criteria)
