"""The bounds every value typed at an edge must keep: ids, amounts, dates, keys, text.

A value outside them is refused here, in one line naming the field, before it reaches a
database: PostgreSQL and SQLite disagree about what overflows (a 20-digit id is an error
on SQLite and a different one on PostgreSQL, a 300-character key fits SQLite's TEXT and
not PostgreSQL's VARCHAR), so the bounds are the narrower of the two and the same on
both. The command line applies them through `cli.common`; the HTTP API will call the
same functions. Limits, with their reasons:

- ids (loans, tickets, documents, runs, versions): 1 … 2,147,483,647, PostgreSQL's
  INTEGER;
- amounts, per kind (`AmountKind`): a loan, a repayment or a monthly income at most
  100,000,000 yuan (一亿元), a fee or a rounding multiple at most 1,000,000 yuan;
- dates: ISO YYYY-MM-DD, a real calendar day, years 2000 to 2100;
- idempotency keys and references: printable ASCII, at most 100 characters (the
  columns hold 128 and the journal prefixes the operation, e.g. `repay:`);
- a payer's reference for a payment (a bank serial number, a channel file's row): 1 to 64
  ASCII letters, digits, '.', '_', '/' or '-', never ':' (a channel's key joins with it);
- codes (product, reason, user names): at most 64 characters, the columns' length;
  one-line text (a subject, a name): at most 200; notes and details: at most 2,000.
Text of any kind may not hold control characters (PostgreSQL refuses a NUL outright).
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from lendflow.domain.calendar import Frequency
from lendflow.domain.errors import BadInput
from lendflow.domain.money import FEN_PER_YUAN, format_grouped

MAX_ID = 2**31 - 1
"""The largest id any table holds: PostgreSQL's INTEGER."""

MIN_YEAR = 2000
MAX_YEAR = 2100

MAX_KEY_LENGTH = 100
"""Idempotency keys and references; their columns hold 128 with the operation's prefix."""

MAX_REFERENCE_LENGTH = 64
REFERENCE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._/-]{{0,{MAX_REFERENCE_LENGTH - 1}}}")
"""A payer's reference. `[0-9]` and `[A-Za-z]` are ASCII only (unlike `\\d`, which takes
`²` and `１２`)."""

MAX_CODE_LENGTH = 64
MAX_LINE_LENGTH = 200
MAX_NOTE_LENGTH = 2000

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class AmountKind(StrEnum):
    """What an amount is, which decides its ceiling (`AMOUNT_LIMITS`)."""

    LOAN = "loan"
    REPAYMENT = "repayment"
    INCOME = "income"
    FEE = "fee"


AMOUNT_LIMITS: dict[AmountKind, int] = {
    AmountKind.LOAN: 100_000_000 * FEN_PER_YUAN,
    AmountKind.REPAYMENT: 100_000_000 * FEN_PER_YUAN,
    AmountKind.INCOME: 100_000_000 * FEN_PER_YUAN,
    AmountKind.FEE: 1_000_000 * FEN_PER_YUAN,
}
"""The largest amount of each kind, in fen."""


def check_id(value: int, *, field: str) -> int:
    """An id a table can hold; anything else cannot name a row, so it is bad input."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise BadInput(f"{field} must be a whole number from 1 to {MAX_ID}, got {value!r}")
    return value


def parse_id(text: str, *, field: str) -> int:
    """An id typed as text (digits only)."""
    raw = str(text).strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_ID)):
        shown = raw if len(raw) <= 20 else f"{raw[:20]}…"
        raise BadInput(f"{field} must be a whole number from 1 to {MAX_ID}, got {shown!r}")
    return check_id(int(raw), field=field)


def check_amount(fen: int, kind: AmountKind, *, field: str, allow_zero: bool = False) -> int:
    """An amount in fen within its kind's ceiling; zero only when `allow_zero`."""
    ceiling = AMOUNT_LIMITS[kind]
    if fen < 0 or (fen == 0 and not allow_zero):
        raise BadInput(f"{field} must be more than zero")
    if fen > ceiling:
        raise BadInput(f"{field} is too large: at most {format_grouped(ceiling)} yuan")
    return fen


def check_date(day: date, *, field: str) -> date:
    """A date within the years lendflow books anything in."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise BadInput(f"{field} must fall in the years {MIN_YEAR} to {MAX_YEAR}, got {day}")
    return day


def parse_date(text: str, *, field: str) -> date:
    """An ISO date typed as text: a real calendar day in the bounded years."""
    raw = str(text).strip()
    if not _ISO_DATE.fullmatch(raw):
        shown = raw if len(raw) <= 20 else f"{raw[:20]}…"
        raise BadInput(f"{field} is not a date: {shown!r} (use YYYY-MM-DD)")
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise BadInput(f"{field} is not a date: {raw} ({exc})") from None
    return check_date(day, field=field)


def check_key(text: str, *, field: str) -> str:
    """An idempotency key or reference: printable ASCII without spaces, bounded."""
    if len(text) > MAX_KEY_LENGTH:
        raise BadInput(f"{field} is too long: at most {MAX_KEY_LENGTH} characters")
    if not _PRINTABLE_ASCII.fullmatch(text):
        raise BadInput(f"{field} must be printable ASCII without spaces, got {text[:20]!r}")
    return text


def check_reference(text: str, *, field: str) -> str:
    """A payer's own reference for a payment, kept with it and shown with its transaction."""
    if not REFERENCE.fullmatch(text):
        raise BadInput(
            f"{field} must be 1-{MAX_REFERENCE_LENGTH} ASCII letters, digits, '.', '_', '/'"
            f" or '-', got {text[:20]!r}"
        )
    return text


def check_text(
    text: str, *, field: str, max_length: int = MAX_LINE_LENGTH, lines: bool = False
) -> str:
    """Text a person typed: no control characters (newlines only where `lines`), at most
    `max_length` characters."""
    if len(text) > max_length:
        raise BadInput(f"{field} is too long: at most {max_length} characters")
    if (_CONTROL if lines else _CONTROL_OR_NEWLINE).search(text):
        raise BadInput(f"{field} must not contain control characters")
    return text


def check_code(text: str, *, field: str) -> str:
    """A code or a name that is a key somewhere (product, reason, user)."""
    return check_text(text, field=field, max_length=MAX_CODE_LENGTH)


def check_note(text: str, *, field: str) -> str:
    """A note or details: several sentences, never a document."""
    return check_text(text, field=field, max_length=MAX_NOTE_LENGTH, lines=True)


MAX_SCHEDULE_YEARS = 100
"""A schedule ends within a century of its start, whatever its period."""


def check_schedule_length(repayments: int, every: int, frequency: Frequency) -> None:
    """Refuse terms whose last due date lies more than `MAX_SCHEDULE_YEARS` away."""
    months = {Frequency.MONTHS: every}.get(frequency)
    days = every * (7 if frequency is Frequency.WEEKS else 1)
    too_long = (
        repayments * months > MAX_SCHEDULE_YEARS * 12
        if months is not None
        else repayments * days > MAX_SCHEDULE_YEARS * 366
    )
    if too_long:
        raise BadInput(
            f"{repayments} repayments every {every} {frequency} run past {MAX_SCHEDULE_YEARS} years"
        )
