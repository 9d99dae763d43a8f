"""A product's stage run started from the console and its gate decided there: the run
followed on its page, its stored report, each criterion at the gate, four eyes, and a
product manager refused with the use case's own line."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pytest

from lendflow.config.settings import Settings
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.lifecycle.live_stages import stage_history
from lendflow.lifecycle.products import create_product, product_pipeline
from lendflow.workspace.context import Workspace
from tests.console.console_helpers import OPENING_DAY, PASSWORD, Staff

pytestmark = pytest.mark.usefixtures("prefect_harness")
STAGE = "/console/products/anxin/stages/charter"
GATE = "/console/products/anxin/gates/charter"


@pytest.fixture
def anxin(console_ws: Workspace, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    """A draft product, and head (product manager and committee member) able to sign in;
    the stage flow opens the workspace the environment names, as a served console does."""
    from lendflow.identity.users import set_password

    set_password(console_ws, console_ws.actor("admin"), "head", PASSWORD)
    monkeypatch.setenv("LENDFLOW_DATABASE_URL", settings.resolved_database_url)
    create_product(console_ws, console_ws.actor("pm"), "anxin", "安心借", OPENING_DAY)
    return "anxin"


def finished(person: Staff, url: str) -> httpx.Response:
    """The run's page once the run no longer runs (at most 120 s)."""
    deadline = time.monotonic() + 120
    while True:
        page = person.get(url)
        assert page.status_code == 200, page.text
        if 'data-status="running"' not in page.text:
            return page
        assert time.monotonic() < deadline, "the run is still running"
        time.sleep(0.2)


def start_charter(person: Staff, **form: object) -> httpx.Response:
    """Open the stage page (for its CSRF token) and post the run form."""
    page = person.get(STAGE)
    assert page.status_code == 200, page.text
    return person.post(f"{STAGE}/runs", **form)  # type: ignore[arg-type]


def test_a_stage_run_is_followed_and_its_gate_decided_by_the_committee(
    anxin: str, browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    pm = browser("pm")
    assert 'id="start-run"' in pm.get(STAGE).text
    started = start_charter(pm, data={"samples": "1"})
    assert started.status_code == 303, started.text
    run_url = started.headers["location"]
    assert re.fullmatch(rf"{STAGE}/runs/\d+", run_url)
    page = finished(pm, run_url)
    assert 'data-status="succeeded"' in page.text
    assert 'id="report"' in page.text and "hx-trigger" not in page.text

    report = pm.client.get(f"{run_url}/report")
    assert report.status_code == 200 and "制定目的及范围" in report.text
    policy = report.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy and "sandbox" in policy

    committee = browser("committee1")
    gate = committee.get(GATE)
    assert gate.status_code == 200, gate.text
    run = run_url.rsplit("/", 1)[1]
    assert f"#{run}</a>" in gate.text
    assert gate.text.count('data-passed="true"') >= 1 and 'data-passed="false"' not in gate.text
    assert 'id="decide"' in gate.text

    pm_gate = pm.get(GATE)
    assert 'id="decide"' not in pm_gate.text  # the form is the committee's
    refused = pm.follow(pm.post(f"{GATE}/decisions", {"decision": "go"}))
    assert "user pm (product_manager) may not decide product gates" in refused.text
    assert product_pipeline(console_ws, console_ws.actor("pm"), "anxin").state == "charter"

    decided = committee.post(f"{GATE}/decisions", {"decision": "go", "note": "clear"})
    shown = committee.follow(decided)
    assert "go: anxin v1 is research" in shown.text
    assert 'id="no-run"' in shown.text and "committee1" in shown.text and "clear" in shown.text
    assert product_pipeline(console_ws, console_ws.actor("pm"), "anxin").state == "research"
    board = pm.get("/console/products")
    moved = r'data-column="research"><a class="chip" href="/console/products/anxin'
    assert re.search(moved, board.text)


def test_the_person_who_ran_a_stage_is_refused_at_its_gate(
    anxin: str, browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    head = browser("head")  # product manager and committee member
    charter = stage_of("charter").inputs[0].sample_path().read_bytes()
    started = start_charter(head, files={"charter": ("mine.yaml", charter, "application/yaml")})
    assert started.status_code == 303, started.text
    finished(head, started.headers["location"])
    runs = stage_history(console_ws, console_ws.actor("head"), "anxin", "charter").runs
    assert [(r.status, r.inputs[0].from_samples) for r in runs] == [("succeeded", False)]

    head.get(GATE)
    shown = head.follow(head.post(f"{GATE}/decisions", {"decision": "go"}))
    assert "another member of the product committee must decide its gate (four eyes)" in (
        shown.text
    )
    assert product_pipeline(console_ws, console_ws.actor("head"), "anxin").state == "charter"
    uploads = console_ws.settings.home / "uploads"
    deadline = time.monotonic() + 30  # the run's thread removes them once the flow is done
    while list(uploads.iterdir()):
        assert time.monotonic() < deadline, "the uploaded files are still there"
        time.sleep(0.1)


def test_a_run_is_refused_before_it_starts_without_its_inputs_or_out_of_order(
    anxin: str, browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    pm = browser("pm")
    missing = pm.follow(start_charter(pm, data={}))
    assert "upload charter, or take the samples for what is not uploaded" in missing.text
    pm.get("/console/products/anxin/stages/research")
    early = pm.follow(pm.post("/console/products/anxin/stages/research/runs", {"samples": "1"}))
    assert 'class="error"' in early.text
    ops = browser("ops")
    ops.get(STAGE)
    assert 'id="start-run"' not in ops.get(STAGE).text
    forbidden = ops.follow(ops.post(f"{STAGE}/runs", {"samples": "1"}))
    assert "may not run product stages" in forbidden.text
    for stage in ("charter", "research"):
        assert not stage_history(console_ws, console_ws.actor("pm"), "anxin", stage).runs
