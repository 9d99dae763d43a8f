"""Anchors of the event chain, kept outside the database in the workspace home.

A chain that is only checked against itself cannot show a deleted tail (the head
moved back with it) or a chain recomputed by someone who holds the key. So the
head (event id and hash) is written, with the business date and the time, to an
append-only file beside the database each time close of business finishes and on
`lendflow audit anchor`; `audit verify` then proves that every anchored event still
exists with its anchored hash. Whoever edits the database must now also edit this
file, which can live on other storage (or be shipped off the machine line by line).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lendflow.store import events
from lendflow.store.uow import run_in_transaction
from lendflow.workspace.results import Result

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

ANCHORS_FILE_NAME = "audit-anchors.log"
_FIELDS = 6


class ChainAnchor(Result):
    """The chain head as anchored: which event, its hash, the business date it closes,
    when (UTC, for the record only), the chain key's public id and where keying starts."""

    event_id: int
    hash: str
    business_date: date
    recorded_at: datetime
    key_id: str
    keyed_from: int

    def line(self) -> str:
        """The anchor as one tab-separated line of the anchors file."""
        stamp = self.recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = (self.event_id, self.hash, self.business_date, stamp, self.key_id)
        return "\t".join(str(f) for f in (*fields, self.keyed_from)) + "\n"


@dataclass(frozen=True)
class AnchorFile:
    """What the anchors file holds: the anchors, and every line that is not one."""

    anchors: list[ChainAnchor]
    problems: list[str]


def anchors_path(ws: Workspace) -> Path:
    return ws.settings.home / ANCHORS_FILE_NAME


def anchor_chain(ws: Workspace, as_of: date) -> ChainAnchor:
    """Append the chain's current head to the anchors file, flushed to disk; the anchor."""
    head = run_in_transaction(ws.engine, events.head)
    anchor = ChainAnchor(
        event_id=head.event_id,
        hash=head.hash,
        business_date=as_of,
        recorded_at=datetime.now(UTC),  # audit time only, never business logic
        key_id=events.key_id(events.registered_chain_key(str(ws.engine.url))),
        keyed_from=head.keyed_from,
    )
    path = anchors_path(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(anchor.line())
        handle.flush()
        os.fsync(handle.fileno())
    return anchor


def read_anchors(ws: Workspace) -> AnchorFile:
    """Every anchor in the file (none if there is no file yet), oldest first."""
    path = anchors_path(ws)
    if not path.exists():
        return AnchorFile([], [])
    anchors: list[ChainAnchor] = []
    problems: list[str] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        anchor = _parse(text)
        if anchor is None:
            problems.append(f"{ANCHORS_FILE_NAME} line {number}: not an anchor (altered)")
        else:
            anchors.append(anchor)
    return AnchorFile(anchors, problems)


def _parse(text: str) -> ChainAnchor | None:
    fields = text.split("\t")
    if len(fields) != _FIELDS:
        return None
    event_id, digest, business_date, stamp, key_id, keyed_from = fields
    try:
        return ChainAnchor(
            event_id=int(event_id),
            hash=digest,
            business_date=date.fromisoformat(business_date),
            recorded_at=datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            key_id=key_id,
            keyed_from=int(keyed_from),
        )
    except ValueError:
        return None
