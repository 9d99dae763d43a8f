"""Tickets, issued documents and close of business over the API."""

from __future__ import annotations

import hashlib
import time
from typing import Any
from uuid import UUID

import pytest

from tests.web.api_helpers import OPENING_DAY, active_loan

DAY = OPENING_DAY.isoformat()


def test_a_ticket_is_opened_listed_a_page_at_a_time_and_resolved(as_user: Any) -> None:
    ops = as_user("ops")
    loan_id = active_loan(as_user)
    opened = [
        ops.post(
            "/api/v1/tickets",
            json={
                "kind": "complaint",
                "subject": f"charged twice {n}",
                "loan_id": loan_id,
                "business_date": DAY,
            },
        )
        for n in range(3)
    ]
    assert [r.status_code for r in opened] == [201, 201, 201]
    first = opened[0].json()
    assert opened[0].headers["location"] == f"/api/v1/tickets/{first['id']}"
    assert first["state"] == "open" and first["loan_id"] == loan_id

    page = ops.get("/api/v1/tickets", params={"on": DAY, "offset": 1, "limit": 1}).json()
    assert page["total"] == 3
    assert [t["id"] for t in page["items"]] == [opened[1].json()["id"]]

    done = ops.post(
        f"/api/v1/tickets/{first['id']}/resolve",
        json={"resolution": "refunded the second charge", "business_date": DAY},
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "resolved"
    again = ops.post(
        f"/api/v1/tickets/{first['id']}/resolve",
        json={"resolution": "again", "business_date": DAY},
    )
    assert again.status_code == 409
    assert "was resolved on" in again.json()["detail"]
    still_open = ops.get("/api/v1/tickets", params={"on": DAY, "open": "true"}).json()
    assert still_open["total"] == 2


def test_a_ticket_needs_a_known_kind_and_the_right_to_serve_customers(as_user: Any) -> None:
    bad = as_user("ops").post("/api/v1/tickets", json={"kind": "praise", "subject": "x"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "kind"
    refused = as_user("auditor").post(
        "/api/v1/tickets", json={"kind": "question", "subject": "when is my due date"}
    )
    assert refused.status_code == 403


def test_a_loans_contract_downloads_as_issued(as_user: Any) -> None:
    loan_id = active_loan(as_user)
    listed = as_user("ops").get(f"/api/v1/loans/{loan_id}/documents")
    assert listed.status_code == 200, listed.text
    contract = next(d for d in listed.json()["items"] if d["kind"] == "contract")
    # the contract names the borrower: only a role that may see personal data reads it
    assert as_user("ops").get(f"/api/v1/documents/{contract['id']}").status_code == 403
    got = as_user("risk").get(f"/api/v1/documents/{contract['id']}")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith(contract["media_type"])
    assert len(got.content) == contract["size"]
    assert hashlib.sha256(got.content).hexdigest() == contract["sha256"]
    assert as_user("risk").get("/api/v1/documents/999999").status_code == 404


def _finished(as_user: Any, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120  # each date is a Prefect flow run of its own
    while True:
        run = as_user("ops").get(location).json()
        if run["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return dict(run)
        time.sleep(0.1)


@pytest.mark.usefixtures("prefect_harness")
def test_close_of_business_runs_in_the_background_and_replays_by_key(as_user: Any) -> None:
    loan_id = active_loan(as_user)
    ops = as_user("ops")
    key = {"Idempotency-Key": "cob-2026-01-05"}
    body = {"as_of": DAY, "to": "2026-03-10"}
    started = ops.post("/api/v1/cob/runs", json=body, headers=key)
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    assert started.json()["state"] in ("queued", "running", "succeeded")

    run = _finished(as_user, location)
    assert run["state"] == "succeeded", run
    assert run["from"] == DAY and run["to"] == "2026-03-10"
    assert run["counts"]["became_overdue"] == 1
    assert ops.get(f"/api/v1/loans/{loan_id}", params={"on": "2026-03-10"}).json()["state"] == (
        "overdue"
    )

    replay = ops.post("/api/v1/cob/runs", json=body, headers=key)
    assert replay.status_code == 202
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["location"] == location
    other = ops.post("/api/v1/cob/runs", json={"as_of": DAY}, headers=key)
    assert other.status_code == 422
    listed = ops.get("/api/v1/cob/runs").json()
    assert listed["total"] == 1 and listed["items"][0]["state"] == "succeeded"


def test_close_of_business_refuses_bad_dates_and_missing_keys_at_once(as_user: Any) -> None:
    ops = as_user("ops")
    no_key = ops.post("/api/v1/cob/runs", json={"as_of": DAY})
    assert no_key.status_code == 400
    backwards = ops.post(
        "/api/v1/cob/runs",
        json={"as_of": "2026-02-01", "to": DAY},
        headers={"Idempotency-Key": "k"},
    )
    assert backwards.status_code == 422
    assert "ends" in backwards.json()["detail"]
    assert (
        as_user("risk")
        .post("/api/v1/cob/runs", json={"as_of": DAY}, headers={"Idempotency-Key": "k2"})
        .status_code
        == 403
    )
    assert ops.get("/api/v1/cob/runs").json()["total"] == 0
    assert ops.get("/api/v1/cob/runs/1").status_code == 404


@pytest.mark.usefixtures("prefect_harness")
def test_a_stopping_server_starts_no_queued_run(api: Any, as_user: Any) -> None:
    loan_id = active_loan(as_user)
    api.app.state.cob_runs.stop()
    started = as_user("ops").post(
        "/api/v1/cob/runs",
        json={"as_of": DAY, "to": "2026-03-10"},
        headers={"Idempotency-Key": "k"},
    )
    assert started.status_code == 202
    run = _finished(as_user, started.headers["location"])
    assert run["state"] == "failed"
    assert run["error"] == "the server stopped before the run started"
    loan = as_user("ops").get(f"/api/v1/loans/{loan_id}", params={"on": "2026-03-10"}).json()
    assert loan["state"] == "active"


@pytest.mark.usefixtures("prefect_harness")
def test_close_of_business_is_a_prefect_flow_run_per_date(as_user: Any) -> None:
    from prefect.client.orchestration import get_client

    active_loan(as_user)
    started = as_user("ops").post(
        "/api/v1/cob/runs",
        json={"as_of": DAY, "to": "2026-01-07"},
        headers={"Idempotency-Key": "cob-flows"},
    )
    assert started.status_code == 202, started.text
    run = _finished(as_user, started.headers["location"])
    assert run["state"] == "succeeded", run
    assert len(run["flow_runs"]) == 3
    with get_client(sync_client=True) as prefect:
        flow_runs = [prefect.read_flow_run(UUID(flow_run)) for flow_run in run["flow_runs"]]
        names = {prefect.read_flow(flow_run.flow_id).name for flow_run in flow_runs}
    assert names == {"close-of-business"}
    assert all(
        flow_run.state is not None and flow_run.state.is_completed() for flow_run in flow_runs
    )
    closed = [flow_run.parameters["as_of"] for flow_run in flow_runs]
    assert [str(day) for day in closed] == ["2026-01-05", "2026-01-06", "2026-01-07"]
    # the range's report: the three dates' counts summed, the book as the last left it
    assert (run["counts"]["from"], run["counts"]["to"]) == (DAY, "2026-01-07")
    assert run["counts"]["loans_scanned"] == 3


def test_the_credit_bureau_report_over_the_api(as_user: Any, ws: Any) -> None:
    from datetime import date

    from lendflow.close_of_business import sweep
    from lendflow.config.cob import load_cob_config

    loan_id = active_loan(as_user)
    auditor = as_user("auditor")
    url = "/api/v1/reports/credit-bureau"
    early = auditor.post(url, params={"month": "2026-01", "on": "2026-02-02"})
    assert early.status_code == 409
    assert early.json()["detail"] == (
        f"month 2026-01 is not closed: close of business has closed loan {loan_id} only"
        " through 2026-01-04 (1 live loan behind); close 2026-01-31 first"
    )
    sweep.close_range(ws, 1, 10_000, OPENING_DAY, date(2026, 1, 31), "cob", load_cob_config())
    sent = auditor.post(url, params={"month": "2026-01", "on": "2026-02-02"})
    assert sent.status_code == 200, sent.text
    assert sent.headers["content-type"] == "text/plain; charset=utf-8"
    assert sent.headers["etag"] == f'"{hashlib.sha256(sent.content).hexdigest()}"'
    assert 'filename="credit-bureau-2026-01.txt"' in sent.headers["content-disposition"]
    lines = sent.text.splitlines()
    assert lines[0] == "H|LFCR|1|2026-01|2026-01-31"
    assert lines[1].startswith(f"A|0|LF-C-{loan_id:08d}|")
    assert lines[1].endswith("|///////////////////////*|1")  # open since 5 January, nothing due
    assert lines[2] == "T|1|0|10000.00"
    again = auditor.post(url, params={"month": "2026-01", "on": "2026-02-03"})
    assert again.content == sent.content
    bad = auditor.post(url, params={"month": "2026-13"})
    assert bad.status_code == 422 and "the month must be 01 to 12" in bad.json()["detail"]
    assert as_user("risk").post(url, params={"month": "2026-01"}).status_code == 403
