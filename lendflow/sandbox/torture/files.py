"""Repayment files as a payment channel sends them, posted row by row under their keys.

The simulator writes a channel's CSV (`reference,loan_id,amount,paid_on`) and posts it
chunk by chunk through the engine's own file path (checked whole, each chunk one
transaction, each row under its channel key), as the batch flow does; a file posted
again must move no money twice.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from lendflow.domain.money import format_fen
from lendflow.loans.repayment_files import (
    COLUMNS,
    FileLimits,
    inspect_repayment_file,
    post_chunk,
    read_chunk,
)

if TYPE_CHECKING:
    from lendflow.access.permissions import Actor
    from lendflow.workspace.context import Workspace


@dataclass(frozen=True)
class FileRow:
    reference: str
    loan_id: int
    amount: int
    paid_on: date


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row: its key, loan and amount, and whether it was accepted."""

    key: str
    loan_id: int
    amount: int
    accepted: bool
    replayed: bool
    refusal: str | None = None


def write_file(path: Path, rows: list[FileRow]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(
                [row.reference, row.loan_id, format_fen(row.amount), row.paid_on.isoformat()]
            )


@dataclass(frozen=True)
class FilePosting:
    """What one posting of a file did: each well-formed row's outcome, and how many rows
    were already on the books (a file posted again)."""

    outcomes: list[RowOutcome]
    duplicates: int


def post_file(ws: Workspace, actor: Actor, path: Path, as_of: date) -> FilePosting:
    """Post the file through the engine's own chunked path, two rows to a chunk, as the
    batch flow does (`repayment_file.inside_chunk` is reached here, so a kill step can
    stop it between rows); bad rows are left out of the outcomes."""
    file = inspect_repayment_file(path, chunk_size=2)
    outcomes: list[RowOutcome] = []
    duplicates = 0
    for chunk in file.chunks:
        rows, _malformed = read_chunk(file, chunk, None, FileLimits())
        report = post_chunk(ws, actor, file, chunk, as_of=as_of)
        refused = {p.line: p.message for p in report.problems}
        duplicates += report.duplicates
        for row in rows:
            why = refused.get(row.line)
            key = row.idempotency_key
            outcomes.append(RowOutcome(key, row.loan_id, row.amount, why is None, False, why))
    return FilePosting(outcomes, duplicates)
