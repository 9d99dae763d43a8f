"""Deliberately broken invariants, for proving the auditor catches them.

`LENDFLOW_TORTURE_BREAK=<name>` makes the simulator's process (and the steps it
runs in subprocesses) post journal entries with a line missing, as a buggy
repository would. It exists for the test that a broken invariant is caught with
a replayable seed; nothing else sets it, and it is never installed unless named.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from lendflow.domain.errors import BadInput
from lendflow.domain.ledger import Account, Line
from lendflow.store import journal

BREAK_ENV = "LENDFLOW_TORTURE_BREAK"


def _drop_penalty_line(kind: str, lines: list[Line]) -> list[Line]:
    """A repayment that pays penalty loses the line that settles the receivable."""
    if kind != "repayment":
        return lines
    return [x for x in lines if not (x.account is Account.PENALTY_RECEIVABLE and x.credit)]


def _skip_journal_line(kind: str, lines: list[Line]) -> list[Line]:
    """Every repayment entry loses its last line."""
    return lines[:-1] if kind == "repayment" and len(lines) > 1 else lines


BREAKS: dict[str, Callable[[str, list[Line]], list[Line]]] = {
    "drop_penalty_line": _drop_penalty_line,
    "skip_journal_line": _skip_journal_line,
}


def named_break() -> str | None:
    """The break the environment names, checked (None when none is)."""
    name = os.environ.get(BREAK_ENV) or None
    if name is not None and name not in BREAKS:
        raise BadInput(f"{BREAK_ENV} must be one of {', '.join(BREAKS)}, got {name!r}")
    return name


def install_break() -> str | None:
    """Wrap the journal's `post` with the named break; the name, or None."""
    name = named_break()
    if name is None or getattr(journal.post, "torture_break", None) == name:
        return name
    damage, real_post = BREAKS[name], journal.post

    def broken_post(uow: Any, *, kind: str, lines: list[Line], **rest: Any) -> int:
        return real_post(uow, kind=kind, lines=damage(kind, lines), **rest)

    broken_post.torture_break = name  # type: ignore[attr-defined]
    journal.post = broken_post  # type: ignore[assignment]
    return name
