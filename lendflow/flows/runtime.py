"""How flows run here: a workspace per process, and Prefect tuned for batch work.

Tasks may run in other threads or processes (Dask workers), so they never
receive a Workspace object: each opens the workspace named by the environment
once per process and reuses it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TypeVar

from prefect.context import SettingsContext, SyncClientContext, get_settings_context
from prefect.settings import PREFECT_API_URL, Profile, Settings, get_current_settings

from lendflow.bootstrap import open_workspace
from lendflow.flows.servers import await_temporary_server, retries_refused_writes
from lendflow.workspace.context import Workspace

T = TypeVar("T")
DEFAULT_CHUNK = 1000


@cache
def _workspace(home: str, database_url: str | None) -> Workspace:
    from lendflow.config.settings import Settings

    return open_workspace(Settings(home=home, database_url=database_url))


def workspace() -> Workspace:
    """The workspace of the current environment, opened once per process."""
    return _workspace(
        os.environ.get("LENDFLOW_HOME", ".lendflow"), os.environ.get("LENDFLOW_DATABASE_URL")
    )


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Batches of `size`: thousands of loans per task, never one task per loan."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


@contextmanager
def batch_run(api_url: str | None = None) -> Iterator[None]:
    """Run flows without the flow heartbeat thread, once their server answers.

    The heartbeat lets a server notice crashed runs; a local or batch run has
    nobody watching, and joining the heartbeat thread at exit costs about a
    second per flow run. Served deployments keep it. A command that started a
    temporary server of its own (`servers.connect`) waits for it here, as late
    as it can, and reports to it; the workspace's server, running a flow itself
    (`served_runs`), reports to its own `api_url`.

    Every flow run inside shares one API client (`SyncClientContext`), kept for the
    whole batch: Prefect made one per flow run, each loading the certificate store for
    its TLS context (about 35 ms on a 2-core machine, even for plain HTTP) and opening
    its own connections; close of business over the API runs a flow per date. Only
    behind a server lendflow started (`servers.retries_refused_writes`): behind Prefect's
    own on SQLite, runs that close together waited 2 s on its refusals (1.1 s a run
    against 0.3 s, measured under `prefect_test_harness`).
    """
    settings = get_current_settings()
    url = api_url or await_temporary_server()
    if url is not None and url != settings.api.url:  # given, or the temporary server moved
        settings = settings.copy_with_update(updates={PREFECT_API_URL: url})
    with (
        SettingsContext(profile=_profile(), settings=_without_heartbeat(settings)),
        _one_client(settings.api.url),
    ):
        yield


@contextmanager
def _one_client(api_url: str | None) -> Iterator[None]:
    """The client of an enclosing batch when it talks to the same API, else a new one;
    none of its own where the server is not one of lendflow's."""
    if not retries_refused_writes(api_url):
        yield
        return
    found = SyncClientContext.get()
    if found is not None and str(found.client.api_url).rstrip("/") == (api_url or "").rstrip("/"):
        yield
        return
    with SyncClientContext():
        yield


def _without_heartbeat(settings: Settings) -> Settings:
    """`settings` with the flow heartbeat off: a copy of the models already validated, as
    `temporary_settings` would validate every setting again (about 0.1 s)."""
    flows = settings.flows.model_copy(update={"heartbeat_frequency": None})
    return settings.model_copy(update={"flows": flows})


def _profile() -> Profile:
    return get_settings_context().profile
