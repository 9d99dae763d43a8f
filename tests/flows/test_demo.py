"""End to end: a small demonstration through the real stages, engine and report."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lendflow.flows.runtime import workspace
from lendflow.loans import audit
from lendflow.states.machine import machine
from lendflow.store.tables import journal_lines, loans
from tests.unit.test_report_wording import english_words

SMALL = "--applicants 160 --months 3 --seed 11"
GOLDEN = Path(__file__).with_name("data") / "demo_summary_small.json"
"""The summary this demonstration wrote before lendflow was reorganised by context:
a change of layout must not change a single figure. (`month_end` was added with the
month-end provisions: every figure before it is unchanged.)"""


def run_demo(lendflow, out: Path, monkeypatch: pytest.MonkeyPatch) -> dict:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_HOME", str(out / "workspace"))
    monkeypatch.setenv("LENDFLOW_DECISIONING", "automated")
    result = lendflow(f"demo {SMALL} --out {out} --json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_small_demo_keeps_every_invariant_and_repeats_exactly(
    lendflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    first = run_demo(lendflow, tmp_path / "first", monkeypatch)
    ws = workspace()
    assert audit.verify(ws, ws.actor("auditor")).ok
    with ws.engine.connect() as connection:
        rows = connection.execute(
            select(loans.c.state, loans.c.principal_outstanding, loans.c.dpd, loans.c.disbursed_on)
        ).all()
    legal = set(machine("loan").definition.state_names)
    assert {r.state for r in rows} <= legal
    live = [r for r in rows if r.state in ("active", "overdue")]
    book = sum(r.principal_outstanding for r in live)
    kpis = first["kpis"]
    assert Decimal(kpis["outstanding"]) * 100 == book
    assert kpis["disbursed_count"] == sum(1 for r in rows if r.disbursed_on is not None)
    at_risk = sum(r.principal_outstanding for r in live if r.dpd > 30)
    assert Decimal(kpis["par30"]) == (Decimal(at_risk) / book).quantize(Decimal("0.0001"))
    assert first["counts"]["applications"] + first["counts"].get("refused_at_application", 0) == 160

    folder = tmp_path / "first"
    index = (folder / "index.html").read_text(encoding="utf-8")
    for name in ("brochure-zh-CN.html", "risk-disclosure-en.html", "portfolio.html"):
        assert f'href="{name}"' in index and (folder / name).exists()
    assert any(p.name.startswith("stage-charter") for p in folder.iterdir())
    assert any(p.name.startswith("contract-loan-") for p in folder.iterdir())
    month_end = first["month_end"]
    assert month_end["month"] == "2025-03" and 'href="month-end-2025-03.html"' in index
    # the allowance is the month end's provisions, and what the journal holds for it
    assert month_end["allowance"] == month_end["provisions"]
    with ws.engine.connect() as connection:
        held = connection.execute(
            select(func.sum(journal_lines.c.credit - journal_lines.c.debit)).where(
                journal_lines.c.account == "loan_loss_allowance"
            )
        ).scalar_one()
    assert Decimal(month_end["allowance"]) * 100 == held > 0
    reports = [
        p for p in folder.glob("*.html") if p.name.startswith(("stage-", "review-", "month-end-"))
    ]
    for page in [*reports, folder / "portfolio.html", folder / "index.html"]:
        assert english_words(page.read_text(encoding="utf-8")) == [], page.name

    again = run_demo(lendflow, tmp_path / "again", monkeypatch)
    assert again == first
    written = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    if os.environ.get("LENDFLOW_UPDATE_GOLDEN"):  # after a deliberate change; review the diff
        GOLDEN.write_text(json.dumps(first, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    assert written == first == json.loads(GOLDEN.read_text(encoding="utf-8"))
