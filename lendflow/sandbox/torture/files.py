"""Repayment files as a payment channel sends them, posted row by row under their keys.

The simulator writes a channel's CSV (`reference,loan_id,amount,paid_on`), reads it
back with the engine's own reader, and posts every good row through the repayment
use case under the row's channel key, as the batch flow does; a file posted again
must move no money twice.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from lendflow.domain.errors import LendflowError
from lendflow.domain.money import format_fen
from lendflow.loans import repayments
from lendflow.loans.repayment_files import COLUMNS, read_repayment_file

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


def post_file(ws: Workspace, actor: Actor, path: Path) -> list[RowOutcome]:
    """Post every good row of the file; each row's outcome (bad rows are left out)."""
    rows, _problems = read_repayment_file(path)
    outcomes = []
    for row in rows:
        key = row.idempotency_key
        try:
            result = repayments.repay(ws, actor, row.loan_id, row.amount, row.paid_on, key)
        except LendflowError as exc:
            outcomes.append(RowOutcome(key, row.loan_id, row.amount, False, False, exc.message))
            continue
        outcomes.append(RowOutcome(key, row.loan_id, row.amount, True, bool(result.replayed)))
    return outcomes
