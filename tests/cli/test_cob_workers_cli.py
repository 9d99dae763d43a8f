"""`lendflow cob run --dask-…` and `lendflow cob deploy --pool`: bad input refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def desk(lendflow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    # The commands point Prefect at the workspace unless PREFECT_HOME is set: keep it per test.
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("LENDFLOW_TASK_RUNNER", raising=False)
    assert lendflow("init").exit_code == 0
    return lendflow


def test_a_local_cluster_and_a_scheduler_at_once_are_refused(desk) -> None:  # type: ignore[no-untyped-def]
    result = desk("cob run --as-of 2026-03-01 --dask-workers 2 --dask-address tcp://127.0.0.1:1")
    assert result.exit_code == 2
    assert result.error() == "error: give --dask-workers or --dask-address, not both"


def test_a_cluster_of_no_workers_is_refused(desk) -> None:  # type: ignore[no-untyped-def]
    result = desk("cob run --as-of 2026-03-01 --dask-workers 0")
    assert result.exit_code == 2
    assert result.error() == "error: --dask-workers must be at least 1, got 0"


def test_a_malformed_worker_count_in_the_environment_is_refused(
    desk, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_TASK_RUNNER", "dask")
    monkeypatch.setenv("LENDFLOW_DASK_WORKERS", "two")
    result = desk("cob run --as-of 2026-03-01")
    assert result.exit_code == 2
    assert result.error() == "error: LENDFLOW_DASK_WORKERS must be a whole number, got 'two'"


def test_deploying_without_a_prefect_server_is_refused(desk) -> None:  # type: ignore[no-untyped-def]
    result = desk("cob deploy --pool night")
    assert result.exit_code == 2
    assert "set PREFECT_API_URL to the Prefect server" in result.error()


def test_an_operator_without_the_right_may_not_deploy(
    desk, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    result = desk("cob deploy --pool night --as auditor")
    assert result.exit_code == 1
    assert "may not deploy close of business" in result.error()


def test_a_run_cannot_be_taken_for_lost_between_two_heartbeats(
    desk, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    result = desk("cob deploy --pool night --lost-after 20")
    assert result.exit_code == 2
    assert result.error() == (
        "error: a run is heard from every 30 s: give it longer than that"
        " before taking it for lost, not 20 s"
    )
