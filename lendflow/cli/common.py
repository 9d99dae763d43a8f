"""Options and helpers shared by the commands: who acts, on which business date, and
the parsers that hold every argument to `domain.bounds` before a command runs.

A parser raises `BadInput`, so a refused value is one line and exit code 2, and the
command never starts: nothing is read or written. Use the option types below (or
the `parse_*` parsers with `typer.Option(parser=...)`) for a new option.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from lendflow.domain import bounds
from lendflow.domain.bounds import AmountKind
from lendflow.domain.errors import BadInput
from lendflow.domain.money import parse_amount

if TYPE_CHECKING:
    from lendflow.access.permissions import Actor
    from lendflow.workspace.context import Workspace

BUSINESS_TIME_ZONE = ZoneInfo("Asia/Shanghai")


def parse_id(field: str) -> Any:
    """A parser for an id (1 … 2^31-1) named `field` in its error."""
    return partial(bounds.parse_id, field=field)


def parse_date(field: str) -> Any:
    """A parser for an ISO date in the bounded years."""
    return partial(bounds.parse_date, field=field)


def _amount(text: str, *, field: str, kind: AmountKind, allow_zero: bool) -> int:
    fen = parse_amount(text, field=field, allow_zero=allow_zero)
    return bounds.check_amount(fen, kind, field=field, allow_zero=allow_zero)


def parse_money(field: str, kind: AmountKind, *, allow_zero: bool = False) -> Any:
    """A parser for an amount in yuan, held as fen within its kind's ceiling."""
    return partial(_amount, field=field, kind=kind, allow_zero=allow_zero)


def _amount_text(text: str, *, field: str, kind: AmountKind) -> str:
    _amount(text, field=field, kind=kind, allow_zero=True)
    return text


def amount_text(field: str, kind: AmountKind) -> Any:
    """A parser that checks an amount but keeps the text, for use cases that parse it."""
    return partial(_amount_text, field=field, kind=kind)


def parse_key(field: str) -> Any:
    """A parser for an idempotency key or reference."""
    return partial(bounds.check_key, field=field)


def parse_reference(field: str) -> Any:
    """A parser for a payer's own reference of a payment (a bank serial number)."""
    return partial(bounds.check_reference, field=field)


def parse_code(field: str) -> Any:
    """A parser for a code or a user's name (at most 64 characters, one line)."""
    return partial(bounds.check_code, field=field)


def parse_line(field: str) -> Any:
    """A parser for one line of text (a subject, a name)."""
    return partial(bounds.check_text, field=field)


def parse_note(field: str) -> Any:
    """A parser for a note or details."""
    return partial(bounds.check_note, field=field)


def write_file(path: Path, data: bytes) -> None:
    """Write what a command made to the file a person named; a bad path is one line."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise BadInput(f"{path}: cannot write: {exc.strerror or exc}") from None


AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Acting user (default: LENDFLOW_USER).", parser=parse_code("--as")),
]
OnOption = Annotated[
    date | None,
    typer.Option(
        "--on",
        help="Business date YYYY-MM-DD (default: today in Asia/Shanghai).",
        parser=parse_date("--on"),
        metavar="DATE",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", help="Show Prefect's own log lines (flow and task runs, its server)."
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="Replaying the same key moves no money twice (printable ASCII, at most"
        f" {bounds.MAX_KEY_LENGTH} characters).",
        parser=parse_key("--idempotency-key"),
    ),
]
NoteOption = Annotated[str | None, typer.Option(help="Decision note.", parser=parse_note("--note"))]
ProductOption = Annotated[
    str | None, typer.Option(help="Only this product.", parser=parse_code("--product"))
]


def business_date(on: date | str | None) -> date:
    """The business date a command acts on.

    This is the one place lendflow reads the clock for a business date: an
    operator's command without --on means "today" where the lender operates.
    Services and flows always receive the date explicitly.
    """
    if isinstance(on, date):
        return on
    if on:
        return bounds.parse_date(on, field="--on")
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
