"""How a command that loaded Prefect ends: as soon as every exit hook has run.

Exit hooks run last registered first, so `end_without_teardown`, called before prefect
is imported, runs after Prefect's (its events sent, its threads stopped) and after the
temporary server has stopped. Tearing the interpreter's modules down then (Prefect,
SQLAlchemy, pydantic) costs about 0.3 s and frees nothing the system does not free when
the process ends. Under a test runner nothing changes: it calls the app, not `main`, so
there is no status to end with.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_status: int | None = None
"""The status the command ends with; None until it ends, and under a test runner."""


@contextmanager
def ending() -> Iterator[None]:
    """Around the whole command (`lendflow.cli.main`): keeps the status it exits with."""
    global _status
    try:
        yield
    except SystemExit as exc:
        _status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise


def end_without_teardown() -> None:
    """Register the early end; call it before prefect is imported."""
    atexit.register(_end_now)


def _end_now() -> None:
    if _status is None:
        return
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_status)
