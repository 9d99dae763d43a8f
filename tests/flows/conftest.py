"""Flows run under Prefect's test harness: one temporary server for the session, no network.

PREFECT_HOME lives in a temporary folder, analytics are off, and flow
heartbeats are off (as `batch_run` does for local runs).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from tests.prefect_harness import seeded_prefect_harness

_PREFECT_HOME = tempfile.mkdtemp(prefix="lendflow-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["PREFECT_API_URL"] = ""


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    from lendflow.flows.runtime import batch_run

    with seeded_prefect_harness(), batch_run():
        yield
