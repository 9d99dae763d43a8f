"""Stage 3, design (产品设计与开发): the product spec positioned against research and policy.

The spec is checked by every registered design check (see design_checks); the
gate's criteria are their results. The run keeps the product documents it
rendered (design_documents). When the committee lets the design go, the spec
becomes the product version's spec.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lendflow.domain.criteria import Criterion
from lendflow.lifecycle.reports import chart, report_view, t, yuan
from lendflow.lifecycle.results import RunContext
from lendflow.lifecycle.stages.design.checks import DesignContext, loan_aprs, run_design_checks
from lendflow.lifecycle.stages.design.controls import packaged_workspace
from lendflow.lifecycle.stages.design.documents import (
    documents_section,
    listed,
    render_product_documents,
)
from lendflow.rendering.charts import bar_chart
from lendflow.rendering.reports import ReportSection, ReportTable, ReportView


def design_outputs(
    context: DesignContext, spec_sha256: str, evidence: dict[str, int]
) -> tuple[dict[str, Any], list[Criterion]]:
    """The spec's key terms, the runs it was checked against, and the check results."""
    spec = context.spec
    criteria = run_design_checks(context)
    standard = max(apr for apr, _, _ in loan_aprs(spec, spec.rate.annual))
    outputs = {
        "spec": {
            "code": spec.code,
            "name": spec.name.zh_CN,
            "name_en": spec.name.en,
            "kind": spec.kind,
            "sha256": spec_sha256,
            "amount": {"min": spec.amount.min, "max": spec.amount.max, "step": spec.amount.step},
            "terms": list(spec.terms),
            "method": str(spec.repayment.method),
            "method_zh": spec.method_name_zh,
            "rate": {
                "annual": str(spec.rate.annual),
                "min": str(spec.rate.lowest),
                "max": str(spec.rate.highest),
            },
            "standard_apr": str(standard),
            "pricing": None if spec.pricing is None else spec.pricing.model_dump(mode="json"),
        },
        "evidence": evidence,
        "target_segments": list(context.research["customers"]["target_segments"]),
        "checks": [c.as_dict() for c in criteria],
        "documents": render_product_documents(
            context.workspace or packaged_workspace(),
            spec,
            version=context.version,
            as_of=context.as_of,
        ),
    }
    return outputs, criteria


def design_report(
    ctx: RunContext,
    outputs: dict[str, Any],
    criteria: list[Criterion],
    competitors: list[dict[str, Any]],
) -> ReportView:
    loc = ctx.locale
    spec = outputs["spec"]
    rate = spec["rate"]
    terms_table = ReportTable(
        columns=(t(loc, "要素", "Term"), t(loc, "取值", "Value")),
        rows=(
            (t(loc, "产品", "Product"), f"{spec['name']} / {spec['name_en']} ({spec['code']})"),
            (
                t(loc, "金额（元）", "Amount (yuan)"),
                f"{yuan(spec['amount']['min'])} – {yuan(spec['amount']['max'])}",
            ),
            (t(loc, "期限（期）", "Terms (repayments)"), "/".join(str(x) for x in spec["terms"])),
            (t(loc, "还款方式", "Repayment"), f"{spec['method_zh']} ({spec['method']})"),
            (
                t(loc, "名义年利率", "Nominal rate"),
                f"{rate['annual']}% ({rate['min']}% – {rate['max']}%)",
            ),
            (t(loc, "标准 APR", "Standard APR"), f"{spec['standard_apr']}%"),
            (t(loc, "规格 SHA-256", "Spec SHA-256"), spec["sha256"]),
        ),
    )
    sections = [
        ReportSection(
            heading=t(loc, "产品要素", "Product terms"),
            paragraphs=(
                t(
                    loc,
                    f"依据章程（运行 {outputs['evidence']['charter_run']}）和市场调研"
                    f"（运行 {outputs['evidence']['research_run']}）对以下产品规格做定位检查。",
                    f"The spec below is checked against the charter (run"
                    f" {outputs['evidence']['charter_run']}) and the research (run"
                    f" {outputs['evidence']['research_run']}).",
                ),
            ),
            tables=(terms_table,),
        )
    ]
    if competitors:
        ranked = sorted(
            [(Decimal(c["apr"]), c["lender"]) for c in competitors]
            + [(Decimal(spec["standard_apr"]), spec["name"])]
        )
        sections.append(
            ReportSection(
                heading=t(loc, "价格定位", "Price position"),
                charts=(
                    chart(
                        t(loc, "价格定位", "Price position"),
                        bar_chart(
                            t(loc, "标准 APR 与竞品（%）", "Standard APR among competitors (%)"),
                            [name for _, name in ranked],
                            [float(apr) for apr, _ in ranked],
                            y_format=lambda v: f"{v:g}%",
                            highlight=[i for i, (_, n) in enumerate(ranked) if n == spec["name"]],
                        ),
                    ),
                ),
            )
        )
    if outputs.get("documents"):
        sections.append(documents_section(loc, ctx.run_id, listed(outputs["documents"])))
    return report_view(
        ctx,
        sections,
        criteria,
        summary=((t(loc, "标准 APR", "Standard APR"), f"{spec['standard_apr']}%"),),
    )
