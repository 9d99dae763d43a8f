"""The products board, a product's pipeline, a run followed while it goes, a gate with no
run waiting, and the CSRF check of an upload form."""

from __future__ import annotations

import re
from collections.abc import Callable

from lendflow.lifecycle import runs as stage_runs
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.lifecycle.inputs import capture_inputs
from lendflow.lifecycle.products import create_product
from lendflow.workspace.context import Workspace
from tests.console.console_helpers import OPENING_DAY, Staff


def test_the_board_shows_each_version_where_it_stands(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    create_product(console_ws, console_ws.actor("pm"), "anxin", "安心借", OPENING_DAY)
    board = browser("auditor").get("/console/products")
    assert board.status_code == 200, board.text
    row = re.search(r'<tr data-product="anxin">.*?</tr>', board.text, re.S)
    assert row and re.search(r'data-column="draft"><a class="chip"[^>]*>v1<', row.group(0))
    live = re.search(r'<tr data-product="cash-easy">.*?</tr>', board.text, re.S)
    assert live and re.search(r'data-column="live"><a class="chip"[^>]*>v1<', live.group(0))
    assert "市场调研与需求分析" in board.text  # the stages by their names


def test_a_product_page_shows_its_pipeline_stage_by_stage(browser: Callable[..., Staff]) -> None:
    page = browser("pm").get("/console/products/cash-easy")
    assert page.status_code == 200, page.text
    assert 'id="product-state">live<' in page.text
    stages = re.findall(r'<tr data-stage="([a-z_]+)">', page.text)
    assert stages == ["charter", "research", "design", "build_test", "launch"]
    assert 'href="/console/products/cash-easy/stages/operate"' in page.text  # live stages
    assert browser("pm").get("/console/products/nosuch").status_code == 404


def test_a_running_run_reloads_itself_and_htmx_gets_only_its_state(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    pm = console_ws.actor("pm")
    create_product(console_ws, pm, "anxin", "安心借", OPENING_DAY)
    inputs = capture_inputs(stage_of("charter"), {}, use_samples=True)
    started = stage_runs.start_run(console_ws, pm, "anxin", "charter", inputs, OPENING_DAY)
    url = f"/console/products/anxin/stages/charter/runs/{started.context.run_id}"
    person = browser("auditor")
    page = person.get(url)
    assert page.status_code == 200, page.text
    assert 'data-status="running"' in page.text
    assert f'hx-get="{url}" hx-trigger="every 2s"' in page.text
    assert f'<a href="{url}" id="reload">' in page.text  # without JavaScript
    assert "samples/charter.yaml" in page.text
    block = person.get(url, headers={"HX-Request": "true"})
    assert block.status_code == 200
    assert block.text.lstrip().startswith('<section id="run-state"') and "<html" not in block.text
    stage = person.get("/console/products/anxin/stages/charter")
    assert f'<tr data-run="{started.context.run_id}">' in stage.text
    assert 'id="start-run"' not in stage.text  # an auditor runs no stage
    assert person.get(f"{url}/report").status_code == 404  # no report yet


def test_a_gate_with_no_run_waiting_still_offers_the_committee_its_form(
    browser: Callable[..., Staff],
) -> None:
    committee = browser("committee1")
    page = committee.get("/console/products/cash-easy/gates/operate")
    assert page.status_code == 200, page.text
    assert 'id="no-run"' in page.text and 'id="decide"' in page.text
    assert 'id="decide"' not in browser("auditor").get(page.url.path).text
    missing = committee.get("/console/products/cash-easy/gates/nosuch")
    assert missing.status_code == 404 and "no stage" in missing.text
    refused = committee.follow(
        committee.post("/console/products/cash-easy/gates/operate/decisions", {"decision": "go"})
    )
    assert "no operate run waits at its gate" in refused.text


def _multipart(*parts: tuple[str, str, bytes | str]) -> tuple[bytes, str]:
    """A multipart body with its parts in the order given: (name, filename or "", value)."""
    boundary = "lendflowboundary"
    chunks = []
    for name, filename, value in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        data = value.encode() if isinstance(value, str) else value
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        chunks.append(data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def test_an_upload_needs_its_csrf_token_before_the_files(
    browser: Callable[..., Staff], console_ws: Workspace
) -> None:
    create_product(console_ws, console_ws.actor("pm"), "anxin", "安心借", OPENING_DAY)
    pm = browser("pm")
    pm.get("/console/products/anxin/stages/charter")
    url = "/console/products/anxin/stages/charter/runs"
    for parts in (
        [("charter", "c.yaml", b"objective: x\n"), ("csrftoken", "", pm.token)],
        [("charter", "", b""), ("samples", "", "1")],
        [("csrftoken", "", "forged"), ("samples", "", "1")],
    ):
        body, kind = _multipart(*parts)
        refused = pm.client.post(
            url, content=body, headers={"content-type": kind}, follow_redirects=False
        )
        assert refused.status_code == 403, refused.text
    body, kind = _multipart(("csrftoken", "", pm.token), ("charter", "", b""))
    missing = pm.client.post(
        url, content=body, headers={"content-type": kind}, follow_redirects=False
    )
    assert missing.status_code == 303  # past the CSRF check: the page says what is missing
    assert "take+the+samples" in missing.headers["location"]
    assert not (console_ws.settings.home / "uploads").exists()
