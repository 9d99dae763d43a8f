"""KPIs and service tickets at the command line."""

from __future__ import annotations

import json

import pytest

from lendflow.config.product_spec import example_product_paths

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")


@pytest.fixture
def desk(lendflow, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    assert (
        lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05").exit_code == 0
    )
    return lendflow


def test_tickets_and_kpis(desk) -> None:  # type: ignore[no-untyped-def]
    opened = desk("ticket open question --subject '怎么还款' --product cash-easy --on 2026-02-01")
    assert opened.stdout.strip() == "ticket 1 opened; resolve by 2026-02-04"
    listed = json.loads(desk("ticket list --breached --on 2026-02-05 --json").stdout)
    assert [t["id"] for t in listed] == [1]
    assert "BREACHED" in desk("ticket list --on 2026-02-05").stdout
    done = desk("ticket resolve 1 --resolution '已告知' --on 2026-02-06")
    assert done.stdout.strip() == "ticket 1 resolved (after its deadline)"
    bad = desk("ticket open rant --subject x --on 2026-02-01")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: ticket kind must be")
    report = json.loads(desk("kpi show cash-easy --as-of 2026-02-28 --json").stdout)
    assert report["kpis"]["applications"] == 0 and report["alerts"] == []
    assert "no alerts" in desk("kpi show cash-easy --as-of 2026-02-28").stdout
    missing = desk("kpi show nothing --as-of 2026-02-28")
    assert missing.exit_code == 2 and "no product 'nothing'" in missing.stderr
