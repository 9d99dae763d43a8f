"""`batch_run`: the flow runs of one batch share one Prefect API client.

Prefect made a client per flow run, each loading the certificate store for its TLS
context and opening its own connections; close of business over the API runs a flow per
date (65 dates took 17 s before, 13 s after, on a slow day of a 2-core machine).
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.client.orchestration import get_client

from lendflow.flows.runtime import batch_run

clients: list[Any] = []  # kept alive, so two runs cannot seem to share a reused address


@flow
def _note_client() -> None:
    clients.append(get_client(sync_client=True))


def test_the_flow_runs_of_one_batch_share_one_api_client() -> None:
    clients.clear()
    with batch_run():
        _note_client()
        _note_client()
        with batch_run():  # a batch inside a batch (a date of a range) keeps it too
            _note_client()
    assert len(clients) == 3
    assert clients[0] is clients[1] is clients[2]
