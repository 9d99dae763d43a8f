"""`batch_run`: the flow runs of one batch share one Prefect API client, behind the
servers lendflow starts.

Prefect made a client per flow run, each loading the certificate store for its TLS
context and opening its own connections; close of business over the API runs a flow per
date (65 dates took 17 s before, 13 s after, on a slow day of a 2-core machine). Behind
Prefect's own server on SQLite, runs that close together wait 2 s whenever it refuses a
write, so there each run keeps its own.
"""

from __future__ import annotations

from typing import Any

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.context import SyncClientContext
from prefect.settings import get_current_settings

from lendflow.flows import runtime, servers
from lendflow.flows.runtime import batch_run

clients: list[Any] = []  # kept alive, so two runs cannot seem to share a reused address


@flow
def _note_client() -> None:
    clients.append(get_client(sync_client=True))


def test_the_flow_runs_of_one_batch_share_one_api_client() -> None:
    assert servers.retries_refused_writes(str(get_current_settings().api.url))
    clients.clear()
    with batch_run():
        _note_client()
        _note_client()
        with batch_run():  # a batch inside a batch (a date of a range) keeps it too
            _note_client()
    assert len(clients) == 3
    assert clients[0] is clients[1] is clients[2]


def test_behind_a_server_lendflow_did_not_start_a_batch_makes_no_client_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(servers, "_LENDFLOW_APIS", set())
    before = SyncClientContext.get()
    with runtime._one_client(str(get_current_settings().api.url)):
        assert SyncClientContext.get() is before
