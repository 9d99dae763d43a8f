"""Options and helpers shared by the commands: who acts, on which business date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from lendflow.domain.calendar import parse_date

if TYPE_CHECKING:
    from lendflow.access.permissions import Actor
    from lendflow.workspace.context import Workspace

BUSINESS_TIME_ZONE = ZoneInfo("Asia/Shanghai")

AsOption = Annotated[str | None, typer.Option("--as", help="Acting user (default: LENDFLOW_USER).")]
OnOption = Annotated[
    str | None,
    typer.Option("--on", help="Business date YYYY-MM-DD (default: today in Asia/Shanghai)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
KeyOption = Annotated[
    str | None,
    typer.Option("--idempotency-key", help="Replaying the same key moves no money twice."),
]


def business_date(on: str | None) -> date:
    """The business date a command acts on.

    This is the one place lendflow reads the clock for a business date: an
    operator's command without --on means "today" where the lender operates.
    Services and flows always receive the date explicitly.
    """
    if on:
        return parse_date(on, field="--on")
    from lendflow.config.settings import load_settings

    return load_settings().today or datetime.now(BUSINESS_TIME_ZONE).date()


@contextmanager
def workspace() -> Iterator[Workspace]:
    from lendflow.bootstrap import open_workspace

    ws = open_workspace()
    try:
        yield ws
    finally:
        ws.close()


@contextmanager
def acting(user: str | None) -> Iterator[tuple[Workspace, Actor]]:
    with workspace() as ws:
        yield ws, ws.actor(user)
