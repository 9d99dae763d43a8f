"""Whether a workspace is there at all, known without opening it.

Kept apart from `workspace.context`, which loads the database layer: a command that
starts a temporary Prefect server checks for its workspace first (the server would make
the folder) and wants the server booting as early as it can.
"""

from __future__ import annotations

from pathlib import Path

from lendflow.config.settings import Settings
from lendflow.domain.errors import BadInput


def require_workspace(settings: Settings) -> None:
    """Refuse a workspace that was never initialised, with what to do about it.

    On SQLite its database file must be there, not only its folder: a folder without one
    (made by hand, or left by an older command that failed) sent every command on to open
    a database that was not there, which ended in a traceback."""
    if not settings.is_sqlite:
        return
    url = settings.resolved_database_url
    database = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    if not settings.home.exists() or (database is not None and not database.exists()):
        raise BadInput(f"no workspace at {settings.home}: run `lendflow init` first")
