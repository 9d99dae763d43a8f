"""Repayment files from payment channels: checked whole, then posted chunk by chunk.

A file is UTF-8 CSV (a BOM is tolerated) with the header
`reference,loan_id,amount,paid_on`, or `channel,reference,loan_id,amount,paid_on`
when one file carries several channels. A channel's reference is the payment's
idempotency key within that channel, so a file posted twice moves its money once,
and two channels may use the same reference for two different payments.

Posting happens in two passes so that a big or hostile file can never sink half a
book. `inspect_repayment_file` reads the whole file once in bounded memory and refuses
it with one line (nothing posted) when it is not a repayment file at all: too big,
too many rows, not UTF-8, a wrong header. It also cuts the file into chunks by byte
offset. `post_chunk` then reads one chunk, checks every row strictly (ASCII digits
only, bounded lengths and ranges, ISO dates, the business date), and posts the good
rows in one transaction: a row a business rule refuses is undone alone, and a row
that fails unexpectedly rolls the whole chunk back. Every row not posted is reported
with its line number and reason (`RepaymentFileReport`, written as CSV).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from lendflow.access.permissions import Actor, Permission
from lendflow.domain import bounds
from lendflow.domain.business_date import check_horizon
from lendflow.domain.calendar import parse_date
from lendflow.domain.errors import BadInput, LendflowError
from lendflow.domain.money import format_fen, parse_amount
from lendflow.loans.repayments import repay_value_dated
from lendflow.store.idempotency import channel_key
from lendflow.store.uow import one_transaction
from lendflow.workspace.faults import fault_point
from lendflow.workspace.results import Fen, Result

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

COLUMNS = ("reference", "loan_id", "amount", "paid_on")
CHANNEL_COLUMNS = ("channel", *COLUMNS)
MAX_LOAN_ID = 2**31 - 1  # the largest id both SQLite and PostgreSQL's INTEGER hold
CHANNEL_MAX = 32
REFERENCE_MAX = bounds.MAX_REFERENCE_LENGTH
SHOWN_PROBLEMS = 20
INSIDE_CHUNK = "repayment_file.inside_chunk"

# `[0-9]` and `[A-Za-z]` are ASCII only (unlike `\d`, which takes `²` and `１２`).
_CHANNEL = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{CHANNEL_MAX - 1}}}")
_REFERENCE = bounds.REFERENCE
_LOAN_ID = re.compile(r"[0-9]{1,10}")
_AMOUNT = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BOM = codecs.BOM_UTF8
_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileLimits:
    """How big a file and its rows may be; the defaults hold a day of a large channel."""

    max_bytes: int = 64 * 1024 * 1024
    max_rows: int = 1_000_000
    max_line_bytes: int = 1024
    max_amount: int = 100_000_000  # fen: one million yuan in one payment is not a microloan's

    def __post_init__(self) -> None:
        if min(self.max_bytes, self.max_rows, self.max_line_bytes, self.max_amount) < 1:
            raise BadInput("repayment file limits must be positive")


@dataclass(frozen=True)
class FileChunk:
    """Where one chunk's rows lie in the file: its byte offset and line numbers."""

    offset: int
    first_line: int
    last_line: int


@dataclass(frozen=True)
class RepaymentFile:
    """A file that passed the whole-file checks, cut into chunks.

    Its size and modification time are kept so a chunk refuses to read a file that
    changed after it was checked.
    """

    path: Path
    channel_column: bool
    rows: int
    size: int
    mtime_ns: int
    chunks: tuple[FileChunk, ...]


@dataclass(frozen=True)
class RepaymentRow:
    line: int
    channel: str | None
    reference: str
    loan_id: int
    amount: int
    paid_on: date

    @property
    def idempotency_key(self) -> str:
        """The channel's reference is the key: a file posted twice moves money once."""
        return channel_key(self.channel, self.reference)


@dataclass(frozen=True)
class RowProblem:
    """A row not posted. `kind` is `invalid` (the row itself is malformed), `refused`
    (a business rule said no) or `failed` (its chunk was rolled back)."""

    line: int
    reference: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ChunkReport:
    """What became of one chunk's rows."""

    posted: int = 0
    duplicates: int = 0
    amount_posted: int = 0
    problems: list[RowProblem] = field(default_factory=list)


class RepaymentFileResult(Result):
    """A repayment file's outcome: counts, money, and where every refused row is listed.

    The exit code tells a script what happened: 0 every row is on the books (posted
    now or before), 1 some are and some were refused, 2 none is.
    """

    file: str
    channel: str | None
    as_of: date
    rows: int
    posted: int
    duplicates: int
    refused: int
    invalid: int
    refused_by_rule: int
    failed: int
    amount_posted: Fen
    errors_file: str
    first_problems: list[str]
    exit_code: int


# --- the whole file ---------------------------------------------------------------


def check_channel(channel: str | None) -> str | None:
    """The `--channel` name, checked like a channel column's value."""
    if channel is not None and not _CHANNEL.fullmatch(channel):
        raise BadInput(
            f"--channel must be 1-{CHANNEL_MAX} lowercase letters, digits, '-' or '_',"
            f" got {_shown(channel)}"
        )
    return channel


def inspect_repayment_file(
    path: Path, chunk_size: int, limits: FileLimits | None = None
) -> RepaymentFile:
    """Check what makes a file unusable as a whole, and cut it into chunks of rows.

    Refuses with one line, before anything is posted, a file that is missing, too
    big, not UTF-8, without the expected header or with too many rows.
    """
    limits = limits or FileLimits()
    if chunk_size < 1:
        raise BadInput("chunk size must be at least 1")
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    if not path.is_file():
        raise BadInput(f"{path}: not a file")
    if stat.st_size > limits.max_bytes:
        raise BadInput(
            f"{path}: file is {stat.st_size} bytes, more than the limit of {limits.max_bytes}"
        )
    with path.open("rb") as handle:
        _check_utf8(path, handle)
        handle.seek(0)
        channel_column = _read_header(path, handle, limits)
        rows, chunks = _cut(path, handle, chunk_size, limits)
    return RepaymentFile(
        path=path,
        channel_column=channel_column,
        rows=rows,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        chunks=tuple(chunks),
    )


def _check_utf8(path: Path, handle: BinaryIO) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    while True:
        block = handle.read(_BLOCK)
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            line = lines_before + block.count(b"\n", 0, max(exc.start, 0)) + 1
            raise BadInput(f"{path}: line {line}: not UTF-8 text") from None
        if not block:
            return
        lines_before += block.count(b"\n")


def _read_header(path: Path, handle: BinaryIO, limits: FileLimits) -> bool:
    """True when the file names a channel on every row."""
    expected = f"{','.join(COLUMNS)} (or {','.join(CHANNEL_COLUMNS)})"
    first = next(_physical_lines(handle, limits.max_line_bytes), None)
    if first is None:
        raise BadInput(f"{path}: the file is empty; its header must be {expected}")
    raw = first[1]
    if raw is None:
        raise BadInput(f"{path}: line 1: header must be {expected}, found a line too long")
    text = raw.removeprefix(_BOM).decode("utf-8")
    try:
        names = tuple(h.strip(" \t").lower() for h in _fields(text))
    except BadInput:
        names = ()
    if names in (COLUMNS, CHANNEL_COLUMNS):
        return names == CHANNEL_COLUMNS
    raise BadInput(f"{path}: line 1: header must be {expected}, found {_shown(text)}")


def _cut(
    path: Path, handle: BinaryIO, chunk_size: int, limits: FileLimits
) -> tuple[int, list[FileChunk]]:
    rows = 0
    chunks: list[FileChunk] = []
    start: tuple[int, int] | None = None
    in_chunk = 0
    line = 1
    for line, (offset, raw) in enumerate(_physical_lines(handle, limits.max_line_bytes), 2):
        if raw is not None and not raw.strip(b" \t"):
            continue
        rows += 1
        if rows > limits.max_rows:
            raise BadInput(f"{path}: more than {limits.max_rows} rows; split the file")
        if start is None:
            start, in_chunk = (offset, line), 0
        in_chunk += 1
        if in_chunk == chunk_size:
            chunks.append(FileChunk(offset=start[0], first_line=start[1], last_line=line))
            start = None
    if start is not None:
        chunks.append(FileChunk(offset=start[0], first_line=start[1], last_line=line))
    return rows, chunks


def _physical_lines(handle: BinaryIO, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """Each line's byte offset and bytes without its line ending; None for a line
    longer than `max_bytes`, which is skipped piece by piece, never held whole."""
    offset = handle.tell()
    while True:
        raw = handle.readline(max_bytes + 2)
        if not raw:
            return
        start, offset = offset, offset + len(raw)
        if not raw.endswith(b"\n") and len(raw) == max_bytes + 2:
            offset += _skip_rest_of_line(handle)
            yield start, None
            continue
        content = raw.rstrip(b"\n").removesuffix(b"\r")
        yield start, (content if len(content) <= max_bytes else None)


def _skip_rest_of_line(handle: BinaryIO) -> int:
    skipped = 0
    while True:
        piece = handle.readline(_BLOCK)
        skipped += len(piece)
        if not piece or piece.endswith(b"\n"):
            return skipped


# --- one chunk's rows -------------------------------------------------------------


def read_chunk(
    file: RepaymentFile, chunk: FileChunk, channel: str | None, limits: FileLimits
) -> tuple[list[RepaymentRow], list[RowProblem]]:
    """The chunk's well-formed rows and a problem for each malformed one."""
    try:
        stat = file.path.stat()
    except OSError:
        stat = None
    if stat is None or (stat.st_size, stat.st_mtime_ns) != (file.size, file.mtime_ns):
        raise BadInput(f"{file.path}: the file changed or vanished after it was checked")
    rows: list[RepaymentRow] = []
    problems: list[RowProblem] = []
    with file.path.open("rb") as handle:
        handle.seek(chunk.offset)
        lines = _physical_lines(handle, limits.max_line_bytes)
        for line, (_, raw) in enumerate(lines, chunk.first_line):
            if line > chunk.last_line:
                break
            try:
                row = parse_row(line, raw, file.channel_column, channel, limits)
            except LendflowError as exc:
                problems.append(RowProblem(line, "", "invalid", exc.message))
                continue
            if row is not None:
                rows.append(row)
    return rows, problems


def parse_row(
    line: int,
    raw: bytes | None,
    channel_column: bool,
    channel: str | None,
    limits: FileLimits,
) -> RepaymentRow | None:
    """One line of the file as a row, None for a blank line; BadInput says what is wrong."""
    if raw is None:
        raise BadInput(f"the line is longer than {limits.max_line_bytes} bytes")
    if b"\x00" in raw:
        raise BadInput("the line contains a NUL character")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the line is not UTF-8 text") from None
    fields = [f.strip(" \t") for f in _fields(text)]
    if not any(fields):
        return None
    expected = len(CHANNEL_COLUMNS) if channel_column else len(COLUMNS)
    if len(fields) != expected:
        raise BadInput(f"expected {expected} fields, found {len(fields)}")
    if channel_column:
        channel = _row_channel(fields.pop(0), channel)
    reference, loan_id, amount, paid_on = fields
    return RepaymentRow(
        line=line,
        channel=channel,
        reference=_reference(reference),
        loan_id=_loan_id(loan_id),
        amount=_amount(amount, limits),
        paid_on=_paid_on(paid_on),
    )


def _fields(text: str) -> list[str]:
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error as exc:
        raise BadInput(f"the line is not valid CSV: {exc}") from None


def _row_channel(value: str, expected: str | None) -> str:
    if not _CHANNEL.fullmatch(value):
        raise BadInput(
            f"channel must be 1-{CHANNEL_MAX} lowercase letters, digits, '-' or '_',"
            f" got {_shown(value)}"
        )
    if expected is not None and value != expected:
        raise BadInput(f"channel {value} is not the file's channel {expected}")
    return value


def _reference(value: str) -> str:
    if not _REFERENCE.fullmatch(value):
        raise BadInput(
            f"reference must be 1-{REFERENCE_MAX} ASCII letters, digits, '.', '_', '/' or '-',"
            f" got {_shown(value)}"
        )
    return value


def _loan_id(value: str) -> int:
    if not _LOAN_ID.fullmatch(value) or not 1 <= int(value) <= MAX_LOAN_ID:
        raise BadInput(f"loan_id must be a number from 1 to {MAX_LOAN_ID}, got {_shown(value)}")
    return int(value)


def _amount(value: str, limits: FileLimits) -> int:
    if value.startswith("-"):
        raise BadInput(f"amount must be positive, got {_shown(value)}")
    if not _AMOUNT.fullmatch(value):
        raise BadInput(f"amount must be yuan in ASCII digits like 1000.50, got {_shown(value)}")
    fen = parse_amount(value, field="amount")
    if fen > limits.max_amount:
        raise BadInput(f"amount {value} is more than the limit of {format_fen(limits.max_amount)}")
    return fen


def _paid_on(value: str) -> date:
    if not _DATE.fullmatch(value):
        raise BadInput(f"paid_on is not a date: {_shown(value)} (use YYYY-MM-DD)")
    return parse_date(value, field="paid_on")


def _shown(value: str) -> str:
    """A value as a one-line quote, cut short: a row's field may be 100,000 characters."""
    cut = value if len(value) <= 24 else f"{value[:20]}…({len(value)} characters)"
    return repr(cut)


# --- posting ----------------------------------------------------------------------


def _check_business_date(ws: Workspace, paid_on: date, as_of: date) -> None:
    """Refuse money dated after the file's business date or beyond the policy's horizon
    after the real date (the workspace's clock).

    One row dated 2099 would otherwise be posted, and every later payment on that loan
    refused as dated before its last movement.
    """
    if paid_on > as_of:
        raise BadInput(f"paid_on {paid_on} is after the file's business date {as_of}")
    check_horizon(paid_on, ws.today(), ws.policy.business_dates.horizon_days, "paid_on")


def post_chunk(
    ws: Workspace,
    actor: Actor,
    file: RepaymentFile,
    chunk: FileChunk,
    *,
    as_of: date,
    channel: str | None = None,
    limits: FileLimits | None = None,
) -> ChunkReport:
    """Post one chunk's good rows in one transaction and report every other row.

    A row refused by a business rule (loan not found or closed, a date into closed
    days, an overpayment) is undone alone; a row that fails unexpectedly rolls the
    whole chunk back, and every row of it is reported as not posted. A reference the
    channel already used for the same payment is a duplicate, not an error.
    """
    actor.require(Permission.REPAY, "post repayment files")
    limits = limits or FileLimits()
    try:
        rows, problems = read_chunk(file, chunk, channel, limits)
    except BadInput as exc:
        message = f"lines {chunk.first_line}-{chunk.last_line} not posted: {exc.message}"
        return ChunkReport(problems=[RowProblem(chunk.first_line, "", "failed", message)])
    postable: list[RepaymentRow] = []
    for row in rows:
        try:
            _check_business_date(ws, row.paid_on, as_of)
        except BadInput as exc:
            problems.append(RowProblem(row.line, row.reference, "refused", exc.message))
            continue
        postable.append(row)
    report = _post_rows(ws, actor, postable, chunk)
    report.problems = sorted([*problems, *report.problems], key=lambda p: p.line)
    return report


def _post_rows(
    ws: Workspace, actor: Actor, rows: list[RepaymentRow], chunk: FileChunk
) -> ChunkReport:
    at: list[RepaymentRow] = []

    def batch() -> ChunkReport:
        report = ChunkReport()
        for row in rows:
            at[:] = [row]
            _post_row(ws, actor, row, report)
            fault_point(INSIDE_CHUNK)
        return report

    try:
        return one_transaction(ws.engine, batch)
    except Exception as exc:  # any failure: the chunk was rolled back, and the report says so
        where = f"line {at[0].line}: " if at else ""
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        message = (
            f"not posted: lines {chunk.first_line}-{chunk.last_line} were rolled back"
            f" after {where}{reason[:200]}"
        )
        return ChunkReport(
            problems=[RowProblem(row.line, row.reference, "failed", message) for row in rows]
        )


def _post_row(ws: Workspace, actor: Actor, row: RepaymentRow, report: ChunkReport) -> None:
    """Post one row on its own savepoint; a row for a day already closed for its loan (a
    bank file for an earlier day) goes through the backdated path, which reprocesses it."""
    try:
        result = repay_value_dated(
            ws, actor, row.loan_id, row.amount, row.paid_on, row.idempotency_key
        )
    except LendflowError as exc:
        report.problems.append(RowProblem(row.line, row.reference, "refused", exc.message))
        return
    if result.replayed:
        report.duplicates += 1
    else:
        report.posted += 1
        report.amount_posted += row.amount


# --- the report ---------------------------------------------------------------------


def check_errors_path(path: Path, errors_path: Path | None) -> Path:
    """Where the report of `path` goes (default `<file>.errors.csv`), if it can go there."""
    target = errors_path or path.with_name(f"{path.name}.errors.csv")
    if target.resolve() == path.resolve():
        raise BadInput(f"{target}: the error report would overwrite the repayment file")
    if not target.parent.is_dir():
        raise BadInput(f"{target}: no such folder for the error report")
    if target.is_dir():
        raise BadInput(f"{target}: is a folder; give a file for the error report")
    return target


class RepaymentFileReport:
    """Adds up the chunks' reports and writes every row not posted to a CSV as it goes,
    so a file of 100,000 bad rows is never held in memory."""

    def __init__(self, file: RepaymentFile, errors_path: Path | None = None) -> None:
        target = check_errors_path(file.path, errors_path)
        try:
            self._handle: TextIO = target.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise BadInput(f"{target}: cannot write the error report: {exc.strerror}") from None
        self.file = file
        self.errors_path = target
        self._csv = csv.writer(self._handle)
        self._csv.writerow(["line", "reference", "outcome", "reason"])
        self.total = ChunkReport()
        self.kinds: dict[str, int] = {"invalid": 0, "refused": 0, "failed": 0}

    def __enter__(self) -> RepaymentFileReport:
        return self

    def __exit__(self, *_: object) -> None:
        self._handle.close()

    def add(self, report: ChunkReport) -> None:
        self.total.posted += report.posted
        self.total.duplicates += report.duplicates
        self.total.amount_posted += report.amount_posted
        for problem in report.problems:
            self.kinds[problem.kind] += 1
            self._csv.writerow([problem.line, problem.reference, problem.kind, problem.message])
            if len(self.total.problems) < SHOWN_PROBLEMS:
                self.total.problems.append(problem)

    def result(self, channel: str | None, as_of: date) -> RepaymentFileResult:
        self._handle.flush()
        refused = sum(self.kinds.values())
        on_books = self.total.posted + self.total.duplicates
        return RepaymentFileResult(
            file=str(self.file.path),
            channel=channel,
            as_of=as_of,
            rows=on_books + refused,
            posted=self.total.posted,
            duplicates=self.total.duplicates,
            refused=refused,
            invalid=self.kinds["invalid"],
            refused_by_rule=self.kinds["refused"],
            failed=self.kinds["failed"],
            amount_posted=self.total.amount_posted,
            errors_file=str(self.errors_path),
            first_problems=[str(p) for p in self.total.problems],
            exit_code=0 if refused == 0 else (1 if on_books else 2),
        )
