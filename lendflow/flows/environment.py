"""Prefect's settings for a process that runs flows: its local state in the workspace, its
chatter down. Set before prefect is imported, as it reads them at import, so this module
imports no Prefect; the command line (`cli.runs`) and the API (stage runs, close of
business) both call it. Settings the process was given (a server's PREFECT_*) win."""

from __future__ import annotations

import os
from pathlib import Path


def prepare_prefect(home: Path) -> None:
    """Keep Prefect's local state under the workspace `home` and its logging to warnings."""
    os.environ.setdefault("PREFECT_HOME", str(home.resolve() / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # A busy small machine can take longer than Prefect's default 20 s to start
    # the temporary local server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
