"""Stage 1, charter (制定目的及范围): objective, target segments and scope → charter document.

The charter's target segments are what the research stage measures demand for
and what the design stage holds the product's amounts and instalments against.
"""

from __future__ import annotations

from typing import Any

from lendflow.domain.criteria import Criterion
from lendflow.lifecycle.inputs import Charter
from lendflow.lifecycle.reports import report_view, t
from lendflow.lifecycle.results import RunContext
from lendflow.rendering.reports import ReportSection, ReportTable, ReportView

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
        ),
        Criterion(
            "target_segments_named",
            bool(segments),
            f"{len(segments)} target segments: {', '.join(segments)}"
            if segments
            else "no target segment named",
        ),
        Criterion(
            "scope_bounded",
            bool(scope.in_scope) and bool(scope.out_of_scope),
            f"{len(scope.in_scope)} items in scope, {len(scope.out_of_scope)} out of scope"
            " (at least one of each)",
        ),
        Criterion(
            "success_measurable",
            measurable > 0,
            f"{measurable} of {len(charter.success_measures)} success measures have a"
            " numeric target (at least one)",
        ),
    ]


def charter_report(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]
) -> ReportView:
    loc = ctx.locale
    objective = [outputs["objective"]]
    if outputs["objective_en"]:
        objective.append(outputs["objective_en"])
    if outputs["sponsor"]:
        objective.append(
            t(loc, f"发起部门：{outputs['sponsor']}", f"Sponsor: {outputs['sponsor']}")
        )
    scope = outputs["scope"]
    sections = [
        ReportSection(t(loc, "目的", "Objective"), paragraphs=tuple(objective)),
        ReportSection(
            t(loc, "目标客群", "Target segments"),
            tables=(
                ReportTable(
                    columns=(
                        t(loc, "代码", "Code"),
                        t(loc, "客群", "Segment"),
                        t(loc, "说明", "Who"),
                    ),
                    rows=tuple(
                        (s["code"], s["name"], s["description"]) for s in outputs["target_segments"]
                    ),
                ),
            ),
        ),
        ReportSection(
            t(loc, "范围", "Scope"),
            tables=(
                ReportTable(
                    columns=(t(loc, "范围内", "In scope"),),
                    rows=tuple((item,) for item in scope["in_scope"]),
                ),
                ReportTable(
                    columns=(t(loc, "范围外", "Out of scope"),),
                    rows=tuple((item,) for item in scope["out_of_scope"]),
                ),
            ),
        ),
        ReportSection(
            t(loc, "成功标准", "Success measures"),
            tables=(
                ReportTable(
                    columns=(
                        t(loc, "指标", "Measure"),
                        t(loc, "目标", "Target"),
                        t(loc, "单位", "Unit"),
                    ),
                    rows=tuple(
                        (m["name"], m["target"], m["unit"]) for m in outputs["success_measures"]
                    ),
                ),
            ),
        ),
    ]
    if outputs["milestones"]:
        sections.append(
            ReportSection(
                t(loc, "里程碑", "Milestones"),
                tables=(
                    ReportTable(
                        columns=(t(loc, "里程碑", "Milestone"), t(loc, "完成日期", "By")),
                        rows=tuple((m["name"], m["by"]) for m in outputs["milestones"]),
                    ),
                ),
            )
        )
    return report_view(
        ctx,
        sections,
        criteria,
        summary=((t(loc, "目标客群", "Target segments"), str(len(outputs["target_segments"]))),),
    )
