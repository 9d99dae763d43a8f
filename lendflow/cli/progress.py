"""Progress for long work, on stderr and only when a person watches a terminal: a test,
a pipe or `--json` output sees exactly what it saw before."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


def watched() -> bool:
    """Whether stderr is a terminal someone is looking at."""
    return sys.stderr.isatty()


@contextmanager
def working(label: str, *, enabled: bool = True) -> Iterator[None]:
    """A rich spinner saying what runs, gone when it ends (nothing at all when not
    `enabled` or stderr is not a terminal)."""
    if not (enabled and watched()):
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(f"{label}…"):
        yield
