"""Prefect's test harness, its server run as lendflow runs its own: Prefect's app behind
`lendflow.flows.prefect_app`, its database started from the migrated empty copy lendflow
keeps.

`prefect_test_harness` starts a Prefect server on a new SQLite file, and the server spent
about 5 of its 9.5 s start migrating it. The workspace's own temporary servers start from
a copy of Prefect's migrated, empty database (`lendflow.flows.servers.template_path`);
the harness's database is now seeded from it too. Where there is no copy yet, the first
harness migrates as before and keeps one for the next.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HARNESS_DATABASE = "prefect-test.db"  # the name prefect_test_harness gives its database


@contextmanager
def seeded_prefect_harness() -> Iterator[None]:
    from prefect.testing import utilities

    from lendflow.flows.servers import keep_template, seed_database

    made = utilities.mkdtemp
    folders: list[Path] = []

    def seeded(*args: Any, **kwargs: Any) -> str:
        folder = made(*args, **kwargs)
        folders.append(Path(folder))
        seed_database(Path(folder) / HARNESS_DATABASE)
        return folder

    with ExitStack() as running:
        utilities.mkdtemp = seeded
        try:
            with _served_as_lendflow_serves_it():  # only while the harness starts its server
                running.enter_context(utilities.prefect_test_harness(server_startup_timeout=120))
        finally:
            utilities.mkdtemp = made
        for folder in folders:  # migrated by this harness, if it had no copy to start from
            keep_template(folder / HARNESS_DATABASE)
        from prefect.settings import get_current_settings

        from lendflow.flows.servers import served_by_lendflow

        served_by_lendflow(str(get_current_settings().api.url))  # lendflow's app, as above
        yield


@contextmanager
def _served_as_lendflow_serves_it() -> Iterator[None]:
    """The harness's server runs Prefect's app behind lendflow's (`flows.prefect_app`), as
    every server lendflow starts does: a flow run started just as the last one's events
    were recorded waited 2 s on Prefect's own."""
    from prefect.server.api import server

    from lendflow.flows.servers import EARLIER_SERVER_APPS, SERVER_APP

    popen = subprocess.Popen

    def lendflows(args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        return popen([SERVER_APP if a in EARLIER_SERVER_APPS else a for a in args], **kwargs)

    server.subprocess.Popen = lendflows  # type: ignore[attr-defined]
    try:
        yield
    finally:
        server.subprocess.Popen = popen  # type: ignore[attr-defined]
