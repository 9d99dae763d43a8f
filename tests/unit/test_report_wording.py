"""Every report kind speaks its locale: a zh-CN report Chinese throughout, an English one English.

The stage reports are rendered from fixed runs (`data/reports/stage_runs.json`: the
outputs and criteria of the stage runs of `lendflow demo --applicants 160 --months 3
--seed 11`, the education texts and document contents left out), the demonstration's
portfolio report and index from that demonstration's KPIs and summary.

What may stay in another script: the product's code and Chinese name, units and terms
(APR, PAR30, KPI, NPS, SHA-256, SQL), file names, hashes, commands in <code>, and
whatever the user wrote (a charter's scope, a competitor's name, a customer's comment,
a channel's own name, the codes of the credit models a spec names) and personal data (a
sandbox borrower's masked name).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lendflow.accounting.month_end_report import month_end_charts
from lendflow.accounting.results import (
    AllowancePoint,
    ClassProvisionLine,
    IncomeLine,
    MonthEndReport,
    ProvisionReport,
)
from lendflow.demo.report import DocumentFile, ReportFiles, RunFile, index_report, portfolio_report
from lendflow.domain.criteria import Criterion
from lendflow.lifecycle.reports import render
from lendflow.lifecycle.results import RunContext
from lendflow.lifecycle.stages.build_test import build_test_report
from lendflow.lifecycle.stages.charter import charter_report
from lendflow.lifecycle.stages.design.stage import design_report
from lendflow.lifecycle.stages.improve.stage import improve_report
from lendflow.lifecycle.stages.launch.stage import launch_report
from lendflow.lifecycle.stages.operate import operate_criteria, operate_report
from lendflow.lifecycle.stages.research import research_report
from lendflow.rendering import formats
from lendflow.rendering.reports import Report, render_kind_report

FIXED = Path(__file__).with_name("data") / "reports"
RUNS: dict[str, Any] = json.loads((FIXED / "stage_runs.json").read_text(encoding="utf-8"))
PORTFOLIO: dict[str, Any] = json.loads((FIXED / "portfolio.json").read_text(encoding="utf-8"))
STAGES = ("charter", "research", "design", "build_test", "launch", "operate", "improve")
KINDS = (*STAGES, "demo-portfolio", "demo-index", "month-end")
TERMS = {"APR", "PAR", "KPI", "NPS", "SHA", "SQL"}
"""Units and terms a Chinese reader reads as they are."""
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def segment_names() -> dict[str, str]:
    return {s["code"]: s["name"] for s in RUNS["charter"]["outputs"]["target_segments"]}


def stage_report(kind: str, locale: str, outputs: dict[str, Any] | None = None) -> Report:
    run = RUNS[kind]
    c = run["context"]
    ctx = RunContext(
        c["run_id"], c["code"], c["product_name"], c["version"], kind, c["run_by"],
        date.fromisoformat(c["as_of"]), locale,
    )  # fmt: skip
    outputs = outputs or run["outputs"]
    criteria = [Criterion.from_dict(x) for x in run["criteria"]]
    if kind == "operate" and outputs is not run["outputs"]:
        criteria = operate_criteria(outputs)
    if kind == "research":
        return research_report(ctx, outputs, criteria, segment_names())
    if kind == "launch":
        return launch_report(ctx, outputs, criteria, segment_names())
    if kind == "design":
        benchmark = RUNS["research"]["outputs"]["competitors"]["benchmark"]
        return design_report(ctx, outputs, criteria, benchmark)
    build = {
        "charter": charter_report,
        "build_test": build_test_report,
        "operate": operate_report,
        "improve": improve_report,
    }[kind]
    return build(ctx, outputs, criteria)


def demo_report(kind: str, locale: str) -> Report:
    summary = PORTFOLIO["summary"]
    if kind == "demo-portfolio":
        counts = summary["counts"]
        funnel = {
            "applied": counts["applications"],
            "approved": counts["approved"],
            "disbursed": counts["disbursed"],
            "closed": summary["loan_states"].get("closed", 0),
            "written_off": summary["loan_states"].get("written_off", 0),
        }
        months = [
            {"month_end": date(2025, 1, 31), "applications": 60, "approved": 55, "disbursed": 50},
            {"month_end": date(2025, 2, 28), "applications": 110, "approved": 100, "disbursed": 95},
        ]
        return portfolio_report(PORTFOLIO["kpis"], funnel, months, locale)
    files = ReportFiles(
        documents=[
            DocumentFile("brochure", "zh-CN", "brochure-zh-CN.html"),
            DocumentFile("risk-disclosure", "en", "risk-disclosure-en.html"),
            DocumentFile("contract", "zh-CN", "contract-loan-1.html", 1),
        ],
        stages=[RunFile("charter", 1, "stage-charter-run-1.html")],
        reviews=[RunFile("operate", 8, "review-2025-03-31.html", date(2025, 3, 31))],
        portfolio=["portfolio.html"],
    )
    return index_report(files, summary, locale)


def month_end_report(locale: str) -> Report:
    """June 2026 of the small book of tests/service/test_provisions.py."""
    provisions = ProvisionReport(
        as_of=date(2026, 6, 30),
        month_end=date(2026, 6, 30),
        classes=(
            ClassProvisionLine(
                classification="normal", loans=1, principal=300_000, rate=Decimal("1.5"),
                provision=4_500,
            ),
            ClassProvisionLine(
                classification="substandard", loans=1, principal=1_000_000, rate=Decimal(30),
                provision=300_000,
            ),
        ),
        principal=1_300_000, specific=304_500, general=0, total=304_500,
        allowance_at_month_end=304_500, allowance=304_500,
    )  # fmt: skip
    figures = MonthEndReport(
        month="2026-06", first=date(2026, 6, 1), last=date(2026, 6, 30),
        income=(
            IncomeLine(kind="interest", charged=15_600, waived=0, net=15_600),
            IncomeLine(kind="penalty", charged=2_190, waived=190, net=2_000),
        ),
        total_income=17_600, accrued=17_790, suspended=0, provision_charged=4_500,
        provisions=provisions, written_off=0, written_off_from_allowance=0, recoveries=0,
        allowance_history=(
            AllowancePoint(month_end=date(2026, 5, 31), allowance=300_000),
            AllowancePoint(month_end=date(2026, 6, 30), allowance=304_500),
        ),
    )  # fmt: skip
    return Report("month-end", locale, figures.last, figures, month_end_charts(figures))


def rendered(kind: str, locale: str) -> str:
    if kind in STAGES:
        return render(stage_report(kind, locale)).decode("utf-8")
    if kind == "month-end":
        return render_kind_report(month_end_report(locale)).decode("utf-8")
    return render_kind_report(demo_report(kind, locale)).decode("utf-8")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def user_texts() -> list[str]:
    """What the product manager, the committee, competitors and customers wrote themselves."""
    charter = RUNS["charter"]["outputs"]
    research = RUNS["research"]["outputs"]
    launch = RUNS["launch"]["outputs"]
    improve = RUNS["improve"]["outputs"]
    operate = RUNS["operate"]["outputs"]
    models = next(c for c in RUNS["design"]["criteria"] if c["name"] == "risk_controls_valid")
    texts = [
        RUNS["charter"]["context"]["product_name"],
        *_strings({k: v for k, v in charter.items() if k != "target_segments"}),
        *(t for s in charter["target_segments"] for t in (s["name"], s["description"])),
        *(t for c in research["competitors"]["benchmark"] for t in (c["lender"], c["product"])),
        *(c["name"] for c in launch["channels"]["channels"]),
        *(t for c in launch["campaigns"] for t in (c["name_zh"], c["name_en"])),
        *_strings(improve["minutes"]),
        *_strings({k: improve["plan"][k] for k in ("title",)}),
        *(c["why"] for c in improve["plan"]["changes"]),
        *(t for th in improve["feedback"]["themes"] for t in th["examples"]),
        *(b["subject"] for b in operate["service"]["breached"]),
        *(
            str(code)
            for key in ("champion", "table", "challenger")
            for code in models["facts"][key]
        ),
    ]
    written = {t for t in texts if re.search(r"[A-Za-z]{2}|[\u4e00-\u9fff]", t)}
    return sorted(written, key=len, reverse=True)


def reader_text(page: str) -> str:
    """The page as a reader sees it (chart labels included), less what is not wording."""
    page = re.sub(r"<style.*?</style>|<code>.*?</code>", " ", page, flags=re.DOTALL)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    text = re.sub(r"\b[0-9a-f]{12,}\b", " ", text)  # SHA-256 and its short form
    text = re.sub(r"[\w.-]+\.(?:html|md|json)\b", " ", text)  # file names
    text = re.sub(r"\w\*+", " ", text)  # a person's name, masked: personal data, not wording
    for written in user_texts():
        text = text.replace(written, " ")
    code = RUNS["charter"]["context"]["code"]
    return re.sub(rf"\b{code}\b", " ", text)


def english_words(page: str) -> list[str]:
    words = re.findall(r"[A-Za-z]{3,}", reader_text(page))
    return sorted({w for w in words if w not in TERMS})


def chinese(page: str) -> list[str]:
    return sorted(set(CJK.findall(reader_text(page))))


@pytest.mark.parametrize("kind", KINDS)
def test_a_zh_cn_report_speaks_chinese_throughout(kind: str) -> None:
    page = rendered(kind, "zh-CN")
    assert '<html lang="zh-CN">' in page
    assert english_words(page) == []


@pytest.mark.parametrize("kind", KINDS)
def test_an_english_report_has_no_chinese_but_the_users_own(kind: str) -> None:
    page = rendered(kind, "en")
    assert '<html lang="en">' in page
    assert chinese(page) == []


def test_a_review_with_alerts_and_late_tickets_speaks_chinese_too() -> None:
    outputs = json.loads(json.dumps(RUNS["operate"]["outputs"]))
    outputs["alerts"] = [
        {
            "kpi": "par30",
            "value": "0.0612",
            "threshold": "0.05",
            "message": "par30 is above",
        },
        {"kpi": "complaints_per_thousand", "value": "3.20", "threshold": "2", "message": "x"},
    ]
    outputs["service"]["breached"] = [
        {"id": 7, "kind": "question", "subject": "怎么提前还款", "opened_on": "2025-03-02",
         "due_on": "2025-03-05", "resolved_on": None, "days_open": 29},
    ]  # fmt: skip
    outputs["recommendations"] = [
        {"code": "tighten_credit", "basis": "par30 0.0612 (threshold 0.05)", "zh": "", "en": ""},
        {"code": "meet_service_levels", "basis": "1 tickets past", "zh": "", "en": ""},
    ]
    zh = render(stage_report("operate", "zh-CN", outputs)).decode("utf-8")
    assert english_words(zh) == []
    assert "PAR30 6.12%（阈值 5.00%）" in zh and "1 张工单超过服务时限" in zh
    assert "每千笔投诉 3.20 高于阈值 2" in zh and "#7" in zh
    en = render(stage_report("operate", "en", outputs)).decode("utf-8")
    assert chinese(en.replace("怎么提前还款", "")) == []
    assert "PAR30 6.12% (threshold 5.00%)" in en and "par30 is above" in en


def test_criteria_keep_their_english_figure_and_carry_their_facts() -> None:
    stored = RUNS["charter"]["criteria"][0]
    criterion = Criterion.from_dict(stored)
    assert criterion.figure.startswith("objective of ") and criterion.as_dict() == stored
    assert criterion.facts == {"length": 77, "minimum": 10}
    zh = rendered("charter", "zh-CN")
    en = rendered("charter", "en")
    assert "目的陈述共 77 字（至少 10 字）" in zh and criterion.figure not in zh
    assert criterion.figure in en and "objective_stated" in en


def test_each_chart_is_titled_in_the_reports_locale() -> None:
    from lendflow.lifecycle.reports import chart_records

    zh = [c["title"] for c in chart_records(stage_report("research", "zh-CN"))]
    en = [c["title"] for c in chart_records(stage_report("research", "en"))]
    assert zh[0] == "目标客群期望借款金额分布" and en[0] == "Amounts the target segments want"
    assert len(zh) == len(en) == 5 and not any(CJK.search(t) for t in en)


def test_one_module_writes_rates_amounts_and_dates() -> None:
    assert formats.percent(Decimal("15.6")) == "15.60%"
    assert formats.percent("18.25", None) == "18.25%" and formats.percent(None) == "—"
    assert formats.ratio_percent("0.123450") == "12.35%"  # half up, never half even
    assert formats.yuan(140950) == "1,409.50" and formats.yuan(Decimal("140950.5")) == "1,409.51"
    assert formats.whole_yuan(3_000_000) == "30,000" and formats.whole_yuan(140950) == "1,409.50"
    assert formats.hundred_million(2_129_000_000_000) == "212.90"
    assert formats.long_date(date(2026, 1, 12), "zh-CN") == "2026年1月12日"
    assert formats.long_date(date(2026, 1, 12), "en") == "12 January 2026"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_recommendation_a_review_can_make_is_worded_in_each_locale(locale: str) -> None:
    from lendflow.domain.review import RECOMMENDATION_CODES
    from lendflow.rendering.environment import get_template

    names = get_template(f"{locale}/_names.j2", None).module
    assert set(RECOMMENDATION_CODES) <= set(names.RECOMMENDATIONS)
