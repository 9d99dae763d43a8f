"""Prefect's test harness, its database started from the migrated empty copy lendflow keeps.

`prefect_test_harness` starts a Prefect server on a new SQLite file, and the server spent
about 5 of its 9.5 s start migrating it. The workspace's own temporary servers start from
a copy of Prefect's migrated, empty database (`lendflow.flows.servers.template_path`);
the harness's database is now seeded from it too. Where there is no copy yet, the first
harness migrates as before and keeps one for the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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

    utilities.mkdtemp = seeded
    try:
        with utilities.prefect_test_harness(server_startup_timeout=120):
            for folder in folders:  # migrated by this harness, if it had no copy to start from
                keep_template(folder / HARNESS_DATABASE)
            yield
    finally:
        utilities.mkdtemp = made
