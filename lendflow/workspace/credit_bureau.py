"""The credit reference system's port, and its file adapter.

A month's records go to the credit reference system through `CreditBureau.submit`. The
file adapter writes them in the layout docs/credit-reporting.md describes (`encode`):
UTF-8, one line per record, fields separated by `|`, a header and a trailer, records in
loan order, amounts in yuan with two decimals. The same report always encodes to the
same bytes. The file appears whole or not at all (written beside it, then renamed), so
a half-written file is never taken for a report. `MemoryBureau` keeps the bytes instead,
for an entry point that hands them over itself (the HTTP API's response).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from lendflow.domain.credit_reporting import BureauRecord
from lendflow.domain.errors import BadInput
from lendflow.domain.money import format_fen

LAYOUT = "LFCR"
LAYOUT_VERSION = 1
SEPARATOR = "|"
ACCOUNT_RECORD = "A"
CORRECTION_RECORD = "C"


@dataclass(frozen=True)
class BureauReport:
    """One month's records for the credit reference system, in loan order."""

    month: str  # YYYY-MM
    as_at: date  # the month's last day: every figure is as at its close
    records: tuple[BureauRecord, ...]


@dataclass(frozen=True)
class Delivery:
    """Where a report went, and the SHA-256 and size of what was sent."""

    destination: str
    sha256: str
    size: int


class CreditBureau(Protocol):
    def submit(self, report: BureauReport) -> Delivery:
        """Hand one month's records over; the same report always sends the same bytes."""
        ...


def _line(record: BureauRecord) -> str:
    kind = CORRECTION_RECORD if record.is_correction else ACCOUNT_RECORD
    fields = (
        kind,
        str(record.revision),
        record.account,
        record.borrower,
        record.opened_on.isoformat(),
        format_fen(record.amount),
        str(record.term),
        record.method,
        format_fen(record.due),
        format_fen(record.paid),
        format_fen(record.outstanding),
        format_fen(record.overdue_amount),
        str(record.overdue_days),
        record.status,
        str(record.class_level),
    )
    for field in fields:
        if SEPARATOR in field or "\n" in field:  # pragma: no cover - codes never hold them
            raise BadInput(f"a credit report field may not hold {SEPARATOR!r}: {field!r}")
    return SEPARATOR.join(fields)


def encode(report: BureauReport) -> bytes:
    """The report in the file layout (docs/credit-reporting.md), byte for byte."""
    records = report.records
    corrections = sum(1 for r in records if r.is_correction)
    outstanding = sum(r.outstanding for r in records)
    lines = [
        SEPARATOR.join(
            (
                "H",
                LAYOUT,
                str(LAYOUT_VERSION),
                report.month,
                report.as_at.isoformat(),
            )
        ),
        *(_line(r) for r in records),
        SEPARATOR.join(("T", str(len(records)), str(corrections), format_fen(outstanding))),
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


class FileBureau:
    """The file adapter: the report written to one file, whole or not at all."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def submit(self, report: BureauReport) -> Delivery:
        content = encode(report)
        path = self.path
        if path.is_dir():
            raise BadInput(f"{path}: is a folder, not a file to write the report to")
        partial = path.with_name(f".{path.name}.part")
        try:
            partial.write_bytes(content)
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise BadInput(f"{path}: cannot write: {exc.strerror or exc}") from None
        return Delivery(str(path), hashlib.sha256(content).hexdigest(), len(content))


class MemoryBureau:
    """Keeps the encoded report (`content`) for an entry point that hands it over itself."""

    def __init__(self) -> None:
        self.content: bytes | None = None

    def submit(self, report: BureauReport) -> Delivery:
        self.content = encode(report)
        return Delivery("response", hashlib.sha256(self.content).hexdigest(), len(self.content))
