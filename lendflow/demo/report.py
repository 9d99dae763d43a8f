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
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendflow.accounting.ledger import month_end
from lendflow.accounting.month_end_report import render_month_end
from lendflow.documents import issuing as documents
from lendflow.domain.credit_reporting import month_of
from lendflow.domain.money import parse_amount
from lendflow.domain.provisions import month_end_on_or_before
from lendflow.lifecycle.products import product_versions_view
from lendflow.lifecycle.runs import stored_report
from lendflow.lifecycle.stages.operate import AlertRow, Rolls, roll_rates_view
from lendflow.monitoring.kpis import product_kpis
from lendflow.rendering.reports import (
    BarChart,
    Chart,
    Line,
    LineChart,
    Report,
    render_kind_report,
)
from lendflow.store import demo_report as report_store
from lendflow.store.uow import run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

CONTRACT_SAMPLES = 3


@dataclass(frozen=True)
class DocumentFile:
    """A document in the folder: its kind, its locale, the loan of a sample contract."""

    kind: str
    locale: str
    file: str
    loan: int | None = None


@dataclass(frozen=True)
class RunFile:
    """A stored stage report in the folder; a review is named by its business date."""

    stage: str
    run: int
    file: str
    as_of: date | None = None


@dataclass
class ReportFiles:
    """What went into the folder, by section of the index."""

    documents: list[DocumentFile] = field(default_factory=list)
    stages: list[RunFile] = field(default_factory=list)
    reviews: list[RunFile] = field(default_factory=list)
    portfolio: list[str] = field(default_factory=list)
    month_end: list[str] = field(default_factory=list)


def _fen(text: str) -> int:
    return parse_amount(text, allow_zero=True)


def write_documents(ws: Workspace, code: str, out: Path, on: date, files: ReportFiles) -> None:
    """The live version's brochure and risk disclosure in both locales, and sample
    contracts of real loans as they were issued (borrowers masked)."""
    reader = ws.actor("ops")
    for kind in ("brochure", "risk-disclosure"):
        for locale in ("zh-CN", "en"):
            name = f"{kind}-{locale}.html"
            rendered = documents.render(
                ws, reader, kind, product=code, loan_id=None, locale=locale, fmt="html", as_of=on
            )
            (out / name).write_bytes(rendered.content)
            files.documents.append(DocumentFile(kind, locale, name))
    for loan_id in _sample_loans(ws, code):
        name = f"contract-loan-{loan_id}.html"
        rendered = documents.render(
            ws, reader, "contract", product=None, loan_id=loan_id, locale="zh-CN", fmt="html",
            as_of=on,
        )  # fmt: skip
        (out / name).write_bytes(rendered.content)
        files.documents.append(DocumentFile("contract", "zh-CN", name, loan_id))


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
            on = result.get("as_of")
            name = f"review-{on or run_id}.html"
            on_date = date.fromisoformat(str(on)) if on else None
            files.reviews.append(RunFile(stage, run_id, name, on_date))
        else:
            name = f"stage-{stage}-run-{run_id}.html"
            files.stages.append(RunFile(stage, run_id, name))
        (out / name).write_bytes(content)


@dataclass(frozen=True)
class MonthRow:
    month_end: date
    active_loans: int
    outstanding: int
    par30: Decimal
    non_performing_ratio: Decimal


@dataclass(frozen=True)
class IntakeRow:
    month: str
    counts: tuple[int, ...]
    """Applications, approved, referred, rejected and disbursed in the month (INTAKE)."""


@dataclass(frozen=True)
class PortfolioData:
    """The simulated year in figures: amounts in fen, ratios as ratios."""

    product: str
    applications: int
    approved: int
    approval_rate: Decimal
    disbursed_count: int
    disbursed_amount: int
    outstanding: int
    par30: Decimal
    non_performing_ratio: Decimal
    written_off_amount: int
    rolls: Rolls | None
    alerts: tuple[AlertRow, ...]
    months: tuple[MonthRow, ...]
    intake: tuple[IntakeRow, ...]
    intake_columns: tuple[str, ...] = ()


INTAKE = ("applications", "approved", "referred", "rejected", "disbursed")


def portfolio_report(
    report: dict[str, Any], funnel: dict[str, int], months: list[dict], locale: str
) -> Report:
    """The year in one report: funnel, disbursements, PAR over time, vintages, roll rates."""
    kpis = report["kpis"]
    data = PortfolioData(
        product=report["product"],
        applications=kpis["applications"],
        approved=kpis["approved"],
        approval_rate=Decimal(kpis["approval_rate"]),
        disbursed_count=kpis["disbursed_count"],
        disbursed_amount=_fen(kpis["disbursed_amount"]),
        outstanding=_fen(kpis["outstanding"]),
        par30=Decimal(kpis["par30"]),
        non_performing_ratio=Decimal(kpis["non_performing_ratio"]),
        written_off_amount=_fen(kpis["written_off_amount"]),
        rolls=roll_rates_view(report["roll_rates"][-1]) if report["roll_rates"] else None,
        alerts=tuple(
            AlertRow(a["kpi"], Decimal(a["value"]), Decimal(a["threshold"]))
            for a in report["alerts"]
        ),
        months=tuple(
            MonthRow(
                date.fromisoformat(p["month_end"]),
                p["active_loans"],
                _fen(p["outstanding"]),
                Decimal(p["par30"]),
                Decimal(p["non_performing_ratio"]),
            )
            for p in report["series"]
        ),
        intake=_intake(months),
        intake_columns=INTAKE,
    )
    return Report(
        kind="demo-portfolio",
        locale=locale,
        as_of=date.fromisoformat(report["as_of"]),
        data=data,
        charts=_portfolio_charts(report, funnel),
    )


def _portfolio_charts(report: dict[str, Any], funnel: dict[str, int]) -> tuple[Chart, ...]:
    series = report["series"]
    labels = tuple(p["month_end"][:7] for p in series)
    disbursed_by_month = _monthly_increase([_fen(p["disbursed_amount"]) for p in series])
    charts: tuple[Chart, ...] = (
        BarChart("funnel", tuple(funnel), tuple(funnel.values()), names="FUNNEL"),
        BarChart("disbursed", labels, tuple(v / 100 for v in disbursed_by_month)),
        LineChart(
            "quality",
            labels,
            (
                Line("par30", tuple(float(p["par30"]) * 100 for p in series)),
                Line("npl", tuple(float(p["non_performing_ratio"]) * 100 for p in series)),
            ),
        ),
    )
    vintage = report["vintages"]
    longest = max((len(v) for v in vintage.values()), default=0)
    if longest:
        charts += (
            LineChart(
                "vintages",
                tuple(str(k + 1) for k in range(longest)),
                tuple(
                    Line(
                        cohort,
                        tuple([float(x) * 100 for x in curve] + [None] * (longest - len(curve))),
                    )
                    for cohort, curve in sorted(vintage.items())
                ),
            ),
        )
    return charts


def _monthly_increase(cumulative: list[int]) -> list[int]:
    return [b - a for a, b in zip([0, *cumulative], cumulative, strict=False)]


def _intake(months: list[dict[str, Any]]) -> tuple[IntakeRow, ...]:
    """Each month's intake, from the simulation's running counts."""
    rows, before = [], dict.fromkeys(INTAKE, 0)
    for month in months:
        rows.append(
            IntakeRow(
                month["month_end"].isoformat()[:7],
                tuple(month.get(k, 0) - before[k] for k in INTAKE),
            )
        )
        before = {k: month.get(k, 0) for k in INTAKE}
    return tuple(rows)


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
    report = product_kpis(ws, risk, code, as_of, version=1).model_dump(mode="json")
    states = loan_states(ws, code)
    funnel = {
        "applied": counts.get("applications", 0),
        "approved": counts.get("approved", 0),
        "disbursed": counts.get("disbursed", 0),
        "closed": states.get("closed", 0),
        "written_off": states.get("written_off", 0),
    }
    (out / "portfolio.html").write_bytes(
        render_kind_report(portfolio_report(report, funnel, months, locale))
    )
    files.portfolio.append("portfolio.html")
    month_end = write_month_end(ws, out, as_of, files, locale)
    versions = [
        {"version": v.version, "state": str(v.state), "annual_rate": v.annual_rate}
        for v in product_versions_view(ws, risk, code).versions
    ]  # no creation times: the same seed must give the same summary
    summary = {
        "product": code,
        "as_of": as_of.isoformat(),
        "counts": dict(sorted(counts.items())),
        "loan_states": states,
        "behaviours": dict(sorted(Counter(behaviours).items())),
        "kpis": report["kpis"],
        "alerts": report["alerts"],
        "month_end": month_end,
        "versions": versions,
        "stage_runs": [
            {"stage": r["stage"], "run": r["run"], "state": r.get("state")} for r in runs
        ],
    }
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n",
        encoding="utf-8",
    )
    (out / "index.html").write_bytes(render_kind_report(index_report(files, summary, locale)))
    return summary


def write_month_end(
    ws: Workspace, out: Path, as_of: date, files: ReportFiles, locale: str
) -> dict[str, Any]:
    """The month-end report of the last month the demonstration closed, from its journal,
    and its key figures for the summary: the month's income, provisions and allowance."""
    last = month_end_on_or_before(as_of)
    figures = month_end(ws, ws.actor("auditor"), month_of(last))
    name = f"month-end-{figures.month}.html"
    (out / name).write_bytes(render_month_end(figures, locale))
    files.month_end.append(name)
    shown = figures.model_dump(mode="json")
    return {
        "month": figures.month,
        "income": {line["kind"]: line["net"] for line in shown["income"]},
        "total_income": shown["total_income"],
        "accrued": shown["accrued"],
        "provision_charged": shown["provision_charged"],
        "provisions": shown["provisions"]["total"],
        "allowance": shown["provisions"]["allowance"],
        "written_off": shown["written_off"],
        "recoveries": shown["recoveries"],
    }


@dataclass(frozen=True)
class VersionRow:
    version: int
    state: str
    annual_rate: Decimal | None


@dataclass(frozen=True)
class IndexData:
    """What the index shows: the key figures, every file by section, the versions."""

    product: str
    applications: int
    approval_rate: Decimal
    disbursed_count: int
    disbursed_amount: int
    outstanding: int
    par30: Decimal
    non_performing_ratio: Decimal
    written_off_amount: int
    files: ReportFiles
    versions: tuple[VersionRow, ...]
    month: str = ""
    month_income: int = 0
    month_provisions: int = 0
    allowance: int = 0


def index_report(files: ReportFiles, summary: dict[str, Any], locale: str) -> Report:
    """The folder's index: the key figures of the summary and every file, by section."""
    kpis = summary["kpis"]
    month_end = summary.get("month_end", {})  # summaries written before provisions have none
    data = IndexData(
        product=summary["product"],
        applications=kpis["applications"],
        approval_rate=Decimal(kpis["approval_rate"]),
        disbursed_count=kpis["disbursed_count"],
        disbursed_amount=_fen(kpis["disbursed_amount"]),
        outstanding=_fen(kpis["outstanding"]),
        par30=Decimal(kpis["par30"]),
        non_performing_ratio=Decimal(kpis["non_performing_ratio"]),
        written_off_amount=_fen(kpis["written_off_amount"]),
        files=files,
        month=month_end.get("month", ""),
        month_income=_fen(month_end.get("total_income", "0")),
        month_provisions=_fen(month_end.get("provision_charged", "0")),
        allowance=_fen(month_end.get("allowance", "0")),
        versions=tuple(
            VersionRow(
                v["version"],
                v["state"],
                None if v["annual_rate"] is None else Decimal(v["annual_rate"]),
            )
            for v in summary["versions"]
        ),
    )
    return Report("demo-index", locale, date.fromisoformat(summary["as_of"]), data)
