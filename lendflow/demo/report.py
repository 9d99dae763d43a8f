"""The demonstration's report folder: an index linking every document and report,
the portfolio report with its charts, and `summary.json`.

Everything in it comes from the workspace the demonstration ran on — stored
stage reports, kept documents, the ledger-backed KPIs — rendered through the
documents module, so it shows what lendflow holds, not a separate summary of it.
Borrowers appear masked: the report is made to be forwarded.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendflow.documents import issuing as documents
from lendflow.domain.money import format_grouped, parse_amount
from lendflow.lifecycle.products import product_versions_view
from lendflow.lifecycle.runs import stored_report
from lendflow.monitoring.kpis import product_kpis
from lendflow.rendering.charts import Series, bar_chart, line_chart
from lendflow.rendering.formats import ratio_percent as _percent
from lendflow.rendering.reports import (
    ReportChart,
    ReportSection,
    ReportTable,
    ReportView,
    render_report,
)
from lendflow.store import demo_report as report_store
from lendflow.store.uow import run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

CONTRACT_SAMPLES = 3


@dataclass
class ReportFiles:
    """What went into the folder, by section of the index, as (title, file name)."""

    documents: list[tuple[str, str]] = field(default_factory=list)
    stages: list[tuple[str, str]] = field(default_factory=list)
    reviews: list[tuple[str, str]] = field(default_factory=list)
    portfolio: list[tuple[str, str]] = field(default_factory=list)


def _fen(text: str) -> int:
    return parse_amount(text, allow_zero=True)


def _money(text: str) -> str:
    """A yuan amount as text, with thousands separators."""
    return format_grouped(_fen(text))


def write_documents(ws: Workspace, code: str, out: Path, on: date, files: ReportFiles) -> None:
    """The live version's brochure and risk disclosure in both locales, and sample
    contracts of real loans as they were issued (borrowers masked)."""
    reader = ws.actor("ops")
    for kind, title in (("brochure", "产品说明书 Brochure"), ("risk-disclosure", "风险提示 Risk")):
        for locale in ("zh-CN", "en"):
            name = f"{kind}-{locale}.html"
            rendered = documents.render(
                ws, reader, kind, product=code, loan_id=None, locale=locale, fmt="html", as_of=on
            )
            (out / name).write_bytes(rendered.content)
            files.documents.append((f"{title} ({locale})", name))
    for loan_id in _sample_loans(ws, code):
        name = f"contract-loan-{loan_id}.html"
        rendered = documents.render(
            ws, reader, "contract", product=None, loan_id=loan_id, locale="zh-CN", fmt="html",
            as_of=on,
        )  # fmt: skip
        (out / name).write_bytes(rendered.content)
        files.documents.append((f"借款合同 Contract of loan {loan_id}", name))


def _sample_loans(ws: Workspace, code: str) -> list[int]:
    return run_in_transaction(
        ws.engine, lambda uow: report_store.paid_out_loan_ids(uow, code, CONTRACT_SAMPLES)
    )


def write_stage_reports(
    ws: Workspace, code: str, runs: list[dict[str, Any]], out: Path, files: ReportFiles
) -> None:
    """Every stage run's stored report, as the stage wrote it."""
    reader = ws.actor("pm")
    for result in runs:
        stage, run_id = result["stage"], result["run"]
        _, content = stored_report(ws, reader, code, stage, run_id)
        if stage == "operate":
            name = f"review-{result.get('as_of', run_id)}.html"
            files.reviews.append((f"月度评估 Review {result.get('as_of', run_id)}", name))
        else:
            name = f"stage-{stage}-run-{run_id}.html"
            files.stages.append((f"{stage} (run {run_id})", name))
        (out / name).write_bytes(content)


def portfolio_view(
    report: dict[str, Any], funnel: dict[str, int], months: list[dict]
) -> ReportView:
    """The year in one report: funnel, disbursements, PAR over time, vintages, roll rates."""
    kpis = report["kpis"]
    series = report["series"]
    labels = [p["month_end"][:7] for p in series]
    disbursed_by_month = _monthly_increase([_fen(p["disbursed_amount"]) for p in series])
    charts = (
        ReportChart(
            "申请漏斗 Application funnel",
            bar_chart("Application funnel", list(funnel), list(funnel.values())),
        ),
        ReportChart(
            "每月放款 Disbursed per month (yuan)",
            bar_chart("Disbursed per month", labels, [v / 100 for v in disbursed_by_month]),
        ),
        ReportChart(
            "逾期率 PAR30 and non-performing ratio",
            line_chart(
                "PAR30 and NPL over time",
                labels,
                [
                    Series("PAR30 %", [float(p["par30"]) * 100 for p in series]),
                    Series("NPL %", [float(p["non_performing_ratio"]) * 100 for p in series]),
                ],
            ),
        ),
    )
    vintage = report["vintages"]
    longest = max((len(v) for v in vintage.values()), default=0)
    if longest:
        charts += (
            ReportChart(
                "账龄分析 Vintage: share ever more than 30 days past due",
                line_chart(
                    "Vintage curves",
                    [f"MOB {k + 1}" for k in range(longest)],
                    [
                        Series(
                            cohort,
                            [float(x) * 100 for x in curve] + [None] * (longest - len(curve)),
                        )
                        for cohort, curve in sorted(vintage.items())
                    ],
                ),
            ),
        )
    sections = [
        ReportSection(
            "组合概览 Portfolio",
            paragraphs=(
                f"{kpis['applications']} applications, {kpis['approved']} approved"
                f" ({_percent(kpis['approval_rate'])}), {kpis['disbursed_count']} loans paid out"
                f" for {_money(kpis['disbursed_amount'])} yuan.",
            ),
            charts=charts,
        ),
        ReportSection("迁徙率 Roll rates", tables=_roll_tables(report)),
        ReportSection(
            "预警 Alerts",
            paragraphs=tuple(a["message"] for a in report["alerts"])
            or ("No alert thresholds crossed.",),
        ),
        ReportSection("月度 Months", tables=(_months_table(series), _intake_table(months))),
    ]
    summary = (
        ("Outstanding", _money(kpis["outstanding"])),
        ("PAR30", _percent(kpis["par30"])),
        ("Non-performing", _percent(kpis["non_performing_ratio"])),
        ("Written off", _money(kpis["written_off_amount"])),
    )
    return ReportView(
        title=f"{report['product']} — portfolio report",
        subtitle="Simulated year of lending through the real engine",
        as_of=date.fromisoformat(report["as_of"]),
        sections=tuple(sections),
        summary=summary,
    )


def _monthly_increase(cumulative: list[int]) -> list[int]:
    return [b - a for a, b in zip([0, *cumulative], cumulative, strict=False)]


def _roll_tables(report: dict[str, Any]) -> tuple[ReportTable, ...]:
    if not report["roll_rates"]:
        return ()
    last = report["roll_rates"][-1]
    matrix = last["matrix"]
    columns = list(next(iter(matrix.values())))
    rows = tuple((bucket, *(str(row[c]) for c in columns)) for bucket, row in matrix.items())
    return (ReportTable(("from \\ to", *columns), rows, caption=f"{last['from']} → {last['to']}"),)


INTAKE = ("applications", "approved", "referred", "rejected", "disbursed")


def _intake_table(months: list[dict[str, Any]]) -> ReportTable:
    """Each month's intake, from the simulation's running counts."""
    rows, before = [], dict.fromkeys(INTAKE, 0)
    for month in months:
        rows.append(
            (month["month_end"].isoformat()[:7],
             *(str(month.get(k, 0) - before[k]) for k in INTAKE))
        )  # fmt: skip
        before = {k: month.get(k, 0) for k in INTAKE}
    return ReportTable(("month", *INTAKE), tuple(rows), caption="Applications by month")


def _months_table(series: list[dict[str, Any]]) -> ReportTable:
    rows = tuple(
        (p["month_end"], str(p["active_loans"]), p["outstanding"], _percent(p["par30"]),
         _percent(p["non_performing_ratio"]))
        for p in series
    )  # fmt: skip
    return ReportTable(("month end", "active loans", "outstanding", "PAR30", "NPL"), rows)


def loan_states(ws: Workspace, code: str) -> dict[str, int]:
    return run_in_transaction(ws.engine, lambda uow: report_store.loans_per_state(uow, code))


def write_report(
    ws: Workspace,
    code: str,
    out: Path,
    as_of: date,
    *,
    runs: list[dict[str, Any]],
    counts: dict[str, int],
    behaviours: dict[str, int],
    months: list[dict[str, Any]],
    locale: str = "zh-CN",
) -> dict[str, Any]:
    """Write the whole folder; return the summary it also writes as summary.json."""
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles()
    write_documents(ws, code, out, as_of, files)
    write_stage_reports(ws, code, runs, out, files)
    risk = ws.actor("risk")
    report = product_kpis(ws, risk, code, as_of, version=1)
    states = loan_states(ws, code)
    funnel = {
        "applied": counts.get("applications", 0),
        "approved": counts.get("approved", 0),
        "disbursed": counts.get("disbursed", 0),
        "closed": states.get("closed", 0),
        "written off": states.get("written_off", 0),
    }
    (out / "portfolio.html").write_bytes(
        render_report(portfolio_view(report, funnel, months), locale=locale)
    )
    files.portfolio.append(("组合报告 Portfolio report (charts)", "portfolio.html"))
    versions = [
        {"version": v["version"], "state": v["state"], "annual_rate": v["annual_rate"]}
        for v in product_versions_view(ws, risk, code)["versions"]
    ]  # no creation times: the same seed must give the same summary
    summary = {
        "product": code,
        "as_of": as_of.isoformat(),
        "counts": dict(sorted(counts.items())),
        "loan_states": states,
        "behaviours": dict(sorted(Counter(behaviours).items())),
        "kpis": report["kpis"],
        "alerts": report["alerts"],
        "versions": versions,
        "stage_runs": [
            {"stage": r["stage"], "run": r["run"], "state": r.get("state")} for r in runs
        ],
    }
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n",
        encoding="utf-8",
    )
    _write_index(out, files, summary, locale)
    return summary


def _write_index(out: Path, files: ReportFiles, summary: dict[str, Any], locale: str) -> None:
    from lendflow.rendering.environment import get_template, render_template

    template = get_template(f"{locale}/demo-index.html.j2", None)
    kpis = summary["kpis"]
    figures = [
        ("applications", str(kpis["applications"])),
        ("approval rate", _percent(kpis["approval_rate"])),
        ("loans paid out", str(kpis["disbursed_count"])),
        ("amount paid out", _money(kpis["disbursed_amount"])),
        ("outstanding", _money(kpis["outstanding"])),
        ("PAR30", _percent(kpis["par30"])),
        ("non-performing", _percent(kpis["non_performing_ratio"])),
        ("written off", _money(kpis["written_off_amount"])),
    ]
    html = render_template(
        template,
        {
            "locale": locale,
            "product": summary["product"],
            "as_of": summary["as_of"],
            "figures": figures,
            "sections": [
                ("文件 Documents", files.documents),
                ("阶段报告 Stage reports", files.stages),
                ("月度评估 Monthly reviews", files.reviews),
                ("组合 Portfolio", files.portfolio),
                ("数据 Data", [("summary.json", "summary.json")]),
            ],
            "versions": summary["versions"],
        },
    )
    (out / "index.html").write_text(html, encoding="utf-8")
