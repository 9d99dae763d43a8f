"""A close-of-business run that keeps crashing stops, failed, instead of being rerun forever."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lendflow.flows.cob import MOST_RUNS, close_of_business
from tests.flows.cob_book import book, make_book


def test_a_run_started_too_often_fails_and_closes_nothing(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_book(isolated_environment, 40)
    before = book(isolated_environment)
    # What Prefect reports for a run rescheduled after crashing MOST_RUNS times.
    monkeypatch.setenv("PREFECT__RUNTIME__FLOW_RUN__RUN_COUNT", str(MOST_RUNS + 1))
    once = close_of_business.with_options(retries=0)
    with pytest.raises(RuntimeError, match=f"started {MOST_RUNS + 1} times without finishing"):
        once(date(2026, 6, 30), actor="ops", today=date(2026, 7, 1))
    assert book(isolated_environment) == before


def test_a_run_within_its_reruns_closes_the_book(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_book(isolated_environment, 40)
    monkeypatch.setenv("PREFECT__RUNTIME__FLOW_RUN__RUN_COUNT", str(MOST_RUNS))
    run = close_of_business.with_options(retries=0)(
        date(2026, 6, 30), actor="ops", today=date(2026, 7, 1)
    )
    assert run.loans_scanned == 40
    assert {loan[-1] for loan in book(isolated_environment)["loans"]} == {date(2026, 6, 30)}
