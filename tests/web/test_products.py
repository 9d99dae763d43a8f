"""Products and the lifecycle over HTTP: a product through its charter and the charter's
gate with four eyes, KPIs, and unknown products or stages as 404."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from lendflow.config.settings import Settings
from lendflow.flows.servers import SERVER_APP
from lendflow.identity.tokens import create_token
from lendflow.lifecycle.catalog import samples_folder
from lendflow.lifecycle.products import create_product
from lendflow.workspace.context import Workspace
from tests.web.api_helpers import TOKENS, application
from tests.web.conftest import ISSUED, prefect_servers_of, running_server

pytestmark = pytest.mark.usefixtures("prefect_harness")
CHARTER_DAY = date(2026, 1, 6)
COMMITTEE = ("pm", "head", "committee1", "committee2")


@pytest.fixture
def anxin(ws: Workspace) -> str:
    """The draft product anxin, and tokens for the product people and the committee."""
    admin = ws.actor("admin")
    for user in COMMITTEE:
        TOKENS[user] = create_token(ws, admin, user, ISSUED, label="tests").token
    create_product(ws, ws.actor("pm"), "anxin", "安心借", CHARTER_DAY)
    return "anxin"


def finished(as_user: Callable[..., Any], url: str) -> dict[str, Any]:
    """Read the run at `url` until it is no longer running (at most 120 s)."""
    deadline = time.monotonic() + 120
    while True:
        response = as_user("auditor").get(url)
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        if run["status"] != "running":
            return run
        assert time.monotonic() < deadline, f"run still running: {run}"
        time.sleep(0.2)


def charter_run(as_user: Callable[..., Any], user: str) -> tuple[str, dict[str, Any]]:
    started = as_user(user).post(
        "/api/v1/products/anxin/stages/charter/runs",
        json={"samples": True, "business_date": CHARTER_DAY.isoformat()},
    )
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    assert location == f"/api/v1/products/anxin/stages/charter/runs/{started.json()['run']}"
    assert started.json()["status"] in ("running", "succeeded")
    return location, finished(as_user, location)


def test_a_product_goes_through_its_charter_gate_with_four_eyes(
    anxin: str, as_user: Callable[..., Any]
) -> None:
    location, run = charter_run(as_user, "pm")
    assert (run["status"], run["run_by"], run["criteria_passed"]) == ("succeeded", "pm", True)
    assert run["inputs"][0]["name"] == "charter" and run["inputs"][0]["from_samples"] is True
    assert run["outputs"] is not None
    report = as_user("auditor").get(run["report"])
    assert report.status_code == 200 and "制定目的及范围" in report.text
    assert location.endswith(str(run["run"]))

    gate = as_user("auditor").get("/api/v1/products/anxin/gates/charter")
    assert gate.status_code == 200, gate.text
    shown = gate.json()
    assert (shown["stage"], shown["run"], shown["criteria_passed"]) == ("charter", run["run"], True)
    assert all(c["passed"] and c["figure"] for c in shown["criteria"])

    decisions = "/api/v1/products/anxin/gates/charter/decisions"
    by_pm = as_user("pm").post(decisions, json={"decision": "go"})
    assert by_pm.status_code == 403, by_pm.text
    gone = as_user("committee1").post(
        decisions, json={"decision": "go", "note": "clear", "business_date": "2026-01-06"}
    )
    assert gone.status_code == 200, gone.text
    assert (gone.json()["decision"], gone.json()["decided_by"]) == ("go", "committee1")

    product = as_user("auditor").get("/api/v1/products/anxin").json()
    assert product["pipeline"]["state"] == "research"
    assert [d["decision"] for d in product["pipeline"]["decisions"]] == ["go"]
    assert product["versions"]["versions"][0]["version"] == 1
    waiting = as_user("auditor").get("/api/v1/products/anxin/gates/charter")
    assert waiting.status_code == 404


def test_the_person_who_ran_a_stage_cannot_decide_its_gate(
    anxin: str, as_user: Callable[..., Any]
) -> None:
    _, run = charter_run(as_user, "head")
    assert run["status"] == "succeeded"
    refused = as_user("head").post(
        "/api/v1/products/anxin/gates/charter/decisions",
        json={"decision": "go", "business_date": "2026-01-06"},
    )
    assert refused.status_code == 409, refused.text
    assert "four eyes" in refused.json()["detail"]
    assert as_user("auditor").get("/api/v1/products/anxin").json()["pipeline"]["state"] == (
        "charter"
    )


def test_a_stage_out_of_order_is_refused_before_any_run(
    anxin: str, as_user: Callable[..., Any]
) -> None:
    refused = as_user("pm").post(
        "/api/v1/products/anxin/stages/research/runs", json={"samples": True}
    )
    assert refused.status_code == 409, refused.text
    assert "\n" not in refused.json()["detail"]
    history = as_user("auditor").get("/api/v1/products/anxin/stages/research/runs/1")
    assert history.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [({"samples": False}, None), ({"samples": True, "inputs": {}}, "inputs"), ({}, "samples")],
)
def test_a_json_stage_run_takes_the_samples_and_no_unknown_field(
    anxin: str, as_user: Callable[..., Any], body: dict[str, Any], field: str | None
) -> None:
    refused = as_user("pm").post("/api/v1/products/anxin/stages/charter/runs", json=body)
    assert refused.status_code == 422, refused.text
    if field is not None:
        assert field in [e["field"] for e in refused.json()["errors"]]
    runs = as_user("auditor").get("/api/v1/products/anxin").json()["pipeline"]["stages"][0]
    assert runs["runs"] == 0


CHARTER_URL = "/api/v1/products/anxin/stages/charter/runs"
BOUNDARY = "lendflow-test-boundary"


def form(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    """A multipart/form-data request, written by hand: httpx sends fields alone url-encoded."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts += [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"'
        "\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, (filename, data) in files.items()
    ]
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return {
        "content": body,
        "headers": {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    }


def test_a_stage_run_takes_its_inputs_as_multipart_files(
    anxin: str, as_user: Callable[..., Any]
) -> None:
    ours = (samples_folder() / "charter.yaml").read_bytes() + b"\n# our own copy\n"
    started = as_user("pm").post(
        CHARTER_URL,
        **form({"business_date": CHARTER_DAY.isoformat()}, {"charter": ("our charter.yaml", ours)}),
    )
    assert started.status_code == 202, started.text
    run = finished(as_user, started.headers["Location"])
    assert (run["status"], run["business_date"]) == ("succeeded", CHARTER_DAY.isoformat())
    (given,) = run["inputs"]
    assert (given["name"], given["from_samples"]) == ("charter", False)
    assert (given["sha256"], given["size"]) == (hashlib.sha256(ours).hexdigest(), len(ours))
    assert given["file"].endswith("our_charter.yaml")
    deadline = time.monotonic() + 30  # the run keeps the text; the sent file goes with the flow
    while Path(given["file"]).exists():
        assert time.monotonic() < deadline, "the sent file outlived its flow"
        time.sleep(0.1)


def test_a_multipart_stage_run_may_take_the_samples(
    anxin: str, as_user: Callable[..., Any]
) -> None:
    started = as_user("pm").post(
        CHARTER_URL, **form({"samples": "true", "business_date": CHARTER_DAY.isoformat()}, {})
    )
    assert started.status_code == 202, started.text
    run = finished(as_user, started.headers["Location"])
    assert run["status"] == "succeeded" and run["inputs"][0]["from_samples"] is True


@pytest.mark.parametrize(
    ("fields", "files", "field", "detail"),
    [
        ({}, {"survey": ("s.csv", b"a,b\n")}, "survey", "stage charter has no input 'survey'"),
        ({"samples": "true"}, {"other": ("o", b"x")}, "other", "has no input 'other'"),
        ({}, {"charter": ("c.yaml", b"\xff\xfe\x00bad")}, "charter", "c.yaml is not UTF-8 text"),
        ({"samples": "true", "x": "1"}, {}, "x", "'x' is not a file"),
        ({"samples": "maybe"}, {}, "samples", "samples must be true or false"),
        ({"business_date": "2026-02-30"}, {}, "business_date", "business_date is not a date"),
        ({"samples": "false"}, {}, "charter", "needs the input charter as a file"),
    ],
)
def test_a_multipart_stage_run_names_the_field_it_refuses(
    anxin: str,
    as_user: Callable[..., Any],
    fields: dict[str, str],
    files: dict[str, tuple[str, bytes]],
    field: str,
    detail: str,
) -> None:
    refused = as_user("pm").post(CHARTER_URL, **form(fields, files))
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field
    assert detail in refused.json()["detail"]
    runs = as_user("auditor").get("/api/v1/products/anxin").json()["pipeline"]["stages"][0]
    assert runs["runs"] == 0


def test_a_missing_input_is_named_and_a_file_over_the_body_limit_is_413(
    anxin: str, as_user: Callable[..., Any]
) -> None:
    missing = as_user("pm").post(CHARTER_URL, json={"samples": False})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "charter"
    big = as_user("pm").post(CHARTER_URL, **form({}, {"charter": ("c.yaml", b"a" * 1024 * 1024)}))
    assert big.status_code == 413


def test_products_are_listed_and_shown(ws: Workspace, as_user: Callable[..., Any]) -> None:
    page = as_user("auditor").get("/api/v1/products?limit=1")
    assert page.status_code == 200, page.text
    assert page.json()["total"] == 2 and len(page.json()["items"]) == 1
    codes = [p["code"] for p in as_user("auditor").get("/api/v1/products").json()["items"]]
    assert "cash-easy" in codes
    shown = as_user("auditor").get("/api/v1/products/cash-easy").json()
    assert shown["pipeline"]["code"] == "cash-easy" and shown["pipeline"]["state"] == "live"


def test_kpis_of_a_product_on_a_day(ws: Workspace, as_user: Callable[..., Any]) -> None:
    applied = as_user("ops").post("/api/v1/loans", json=application())
    assert applied.status_code == 201, applied.text
    response = as_user("auditor").get("/api/v1/products/cash-easy/kpis?as_of=2026-01-31")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["product"] == "cash-easy" and body["as_of"] == "2026-01-31"
    assert body["kpis"]["applications"] == 1 and body["kpis"]["active_loans"] == 0


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("/api/v1/products/nosuch", "product 'nosuch' does not exist"),
        ("/api/v1/products/nosuch/kpis?as_of=2026-01-31", "no product 'nosuch'"),
        ("/api/v1/products/nosuch/gates/charter", "product 'nosuch' does not exist"),
        ("/api/v1/products/cash-easy/gates/nosuchstage", "no stage 'nosuchstage'"),
        ("/api/v1/products/cash-easy/gates/charter", "no run of cash-easy waits at the charter"),
        ("/api/v1/products/cash-easy/stages/charter/runs/99", "run 99 is not a charter run"),
    ],
)
def test_unknown_products_stages_and_runs_are_404(
    ws: Workspace, as_user: Callable[..., Any], url: str, detail: str
) -> None:
    response = as_user("auditor").get(url)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]


def test_a_decision_on_an_unknown_stage_or_product_is_404(
    ws: Workspace, as_user: Callable[..., Any]
) -> None:
    for url in (
        "/api/v1/products/cash-easy/gates/nosuchstage/decisions",
        "/api/v1/products/nosuch/gates/charter/decisions",
    ):
        response = as_user("admin").post(url, json={"decision": "go"})
        assert response.status_code == 404, response.text


def test_no_token_is_401(ws: Workspace, api: Any) -> None:
    assert api.get("/api/v1/products").status_code == 401


def test_a_charter_run_and_its_gate_against_a_running_server(
    anxin: str, settings: Settings, tmp_path: Path
) -> None:
    """The run goes on in the server's own thread while the client reads its state; it
    reports to a temporary server lendflow starts (`servers.connect`), which stops with
    the server (uvicorn ends the process on SIGTERM without running its exit hooks)."""
    lendflows = SERVER_APP.encode()  # Prefect's app behind lendflow's, which retries writes
    with running_server(settings, tmp_path / "server.log") as server:
        _charter_and_gate(server)
        assert prefect_servers_of(settings.home, lendflows)  # the run's temporary server
        assert not prefect_servers_of(settings.home)  # and not Prefect's own
    deadline = time.monotonic() + 10
    while prefect_servers_of(settings.home, lendflows):
        assert time.monotonic() < deadline, "a Prefect server outlived `lendflow web`"
        time.sleep(0.2)


def _charter_and_gate(server: str) -> None:

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKENS[user]}"}

    with httpx.Client(base_url=server, timeout=180) as http:
        started = http.post(
            "/api/v1/products/anxin/stages/charter/runs",
            json={"samples": True, "business_date": CHARTER_DAY.isoformat()},
            headers=auth("pm"),
        )
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        deadline = time.monotonic() + 120
        while (run := http.get(location, headers=auth("auditor")).json())["status"] == "running":
            assert time.monotonic() < deadline, run
            time.sleep(0.2)
        assert (run["status"], run["criteria_passed"]) == ("succeeded", True)
        decisions = "/api/v1/products/anxin/gates/charter/decisions"
        own = http.post(decisions, json={"decision": "go"}, headers=auth("pm"))
        assert own.status_code == 403
        gone = http.post(
            decisions,
            json={"decision": "go", "business_date": "2026-01-06"},
            headers=auth("committee2"),
        )
        assert gone.status_code == 200, gone.text
        product = http.get("/api/v1/products/anxin", headers=auth("auditor")).json()
        assert product["pipeline"]["state"] == "research"
