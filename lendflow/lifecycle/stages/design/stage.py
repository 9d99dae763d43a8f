"""Stage 3, design (产品设计与开发): the product spec positioned against research and policy.

The spec is checked by every registered design check (see design_checks); the
gate's criteria are their results. The run keeps the product documents it
rendered (design_documents). When the committee lets the design go, the spec
becomes the product version's spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lendflow.domain.criteria import Criterion
from lendflow.lifecycle.reports import stage_report
from lendflow.lifecycle.results import RunContext
from lendflow.lifecycle.stages.design.checks import DesignContext, loan_aprs, run_design_checks
from lendflow.lifecycle.stages.design.controls import packaged_workspace
from lendflow.lifecycle.stages.design.documents import listed, render_product_documents
from lendflow.rendering.reports import BarChart, Report


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


@dataclass(frozen=True)
class SpecTerms:
    """The spec's key terms: amounts in fen, rates in percent."""

    code: str
    name: str
    name_en: str
    amount_min: int
    amount_max: int
    terms: tuple[int, ...]
    method: str
    rate: Decimal
    rate_min: Decimal
    rate_max: Decimal
    standard_apr: Decimal
    sha256: str


@dataclass(frozen=True)
class KeptDocument:
    kind: str
    locale: str
    file: str
    size: int
    sha256: str


@dataclass(frozen=True)
class DesignData:
    spec: SpecTerms
    charter_run: int
    research_run: int
    run_id: int
    documents: tuple[KeptDocument, ...]
    priced_against_competitors: bool


def design_report(
    ctx: RunContext,
    outputs: dict[str, Any],
    criteria: list[Criterion],
    competitors: list[dict[str, Any]],
) -> Report:
    spec = outputs["spec"]
    rate = spec["rate"]
    data = DesignData(
        spec=SpecTerms(
            code=spec["code"],
            name=spec["name"],
            name_en=spec["name_en"],
            amount_min=spec["amount"]["min"],
            amount_max=spec["amount"]["max"],
            terms=tuple(spec["terms"]),
            method=spec["method"],
            rate=Decimal(rate["annual"]),
            rate_min=Decimal(rate["min"]),
            rate_max=Decimal(rate["max"]),
            standard_apr=Decimal(spec["standard_apr"]),
            sha256=spec["sha256"],
        ),
        charter_run=outputs["evidence"]["charter_run"],
        research_run=outputs["evidence"]["research_run"],
        run_id=ctx.run_id,
        documents=tuple(
            KeptDocument(d["kind"], d["locale"], d["file"], d["size"], d["sha256"])
            for d in listed(outputs.get("documents") or [])
        ),
        priced_against_competitors=bool(competitors),
    )
    charts = ()
    if competitors:
        ranked = sorted(
            [(Decimal(c["apr"]), c["lender"]) for c in competitors]
            + [(Decimal(spec["standard_apr"]), spec["name"])]
        )
        charts = (
            BarChart(
                "price",
                tuple(name for _, name in ranked),
                tuple(float(apr) for apr, _ in ranked),
                highlight=tuple(i for i, (_, n) in enumerate(ranked) if n == spec["name"]),
                unit="%",
            ),
        )
    return stage_report(ctx, data, criteria, charts)
