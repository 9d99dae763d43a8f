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


def test_a_collection_contact_at_half_past_eleven_is_refused_in_one_line(desk) -> None:  # type: ignore[no-untyped-def]
    assert desk("loan apply --consent all --product cash-easy --name 张三"
                " --id-number 110101199005170016"
                " --phone 13812345678 --monthly-income 8000 --amount 5000 --term 6"
                " --on 2026-01-05").exit_code == 0  # fmt: skip
    desk("loan review 1 --on 2026-01-05")
    desk("loan approve 1 --as risk --note ok --on 2026-01-05")
    assert desk("loan disburse 1 --on 2026-01-05").exit_code == 0
    late = desk("collection log 1 --channel call --outcome no_answer --at 2026-02-10T23:30")
    assert late.exit_code == 1
    assert late.stderr.strip() == (
        "error: refused by rule COLLECTION_HOURS: a call at 23:30 is outside the hours 08:00–21:00"
    )
    fine = desk("collection log 1 --channel call --outcome promised_to_pay --at 2026-02-10T10:05")
    assert fine.exit_code == 0 and "contact 1 logged" in fine.stdout
    listed = json.loads(desk("collection list 1 --json").stdout)
    assert [c["contacted_at"] for c in listed] == ["2026-02-10T10:05"]
    odd = desk("collection log 1 --channel call --outcome no_answer --at teatime")
    assert odd.exit_code == 2 and "--at must be a local time" in odd.stderr
