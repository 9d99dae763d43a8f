"""Repayment files from payment channels: parsed and checked row by row.

A file is CSV with a header `reference,loan_id,amount,paid_on`. Every row is
checked on its own; bad rows are reported with their line numbers and never
posted, good rows are posted idempotently under their channel reference.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lendflow.domain.calendar import parse_date
from lendflow.domain.errors import BadInput, LendflowError
from lendflow.domain.money import parse_amount

COLUMNS = ("reference", "loan_id", "amount", "paid_on")


@dataclass(frozen=True)
class RepaymentRow:
    line: int
    reference: str
    loan_id: int
    amount: int
    paid_on: date

    @property
    def idempotency_key(self) -> str:
        """The channel's reference is the key: a file posted twice moves money once."""
        return f"channel:{self.reference}"


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read_repayment_file(path: Path) -> tuple[list[RepaymentRow], list[RowProblem]]:
    """Every good row and every problem, by line number (the header is line 1)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise BadInput(f"{path}: line 1: header must be {','.join(COLUMNS)}")
    rows: list[RepaymentRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for line, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        try:
            row = _parse_row(line, fields)
        except LendflowError as exc:
            problems.append(RowProblem(line, exc.message))
            continue
        if row.reference in seen:
            problems.append(
                RowProblem(line, f"reference {row.reference} repeats line {seen[row.reference]}")
            )
            continue
        seen[row.reference] = line
        rows.append(row)
    return rows, problems


def _parse_row(line: int, fields: list[str]) -> RepaymentRow:
    if len(fields) != len(COLUMNS):
        raise BadInput(f"expected {len(COLUMNS)} fields, found {len(fields)}")
    reference, loan_id, amount, paid_on = (f.strip() for f in fields)
    if not reference:
        raise BadInput("reference is empty")
    if not loan_id.isdigit() or int(loan_id) < 1:
        raise BadInput(f"loan_id is not a loan number: {loan_id!r}")
    return RepaymentRow(
        line=line,
        reference=reference,
        loan_id=int(loan_id),
        amount=parse_amount(amount, field="amount"),
        paid_on=parse_date(paid_on, field="paid_on"),
    )
