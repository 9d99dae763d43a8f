"""What a loan's monthly record to the credit reference system says, from its own history.

A licensed lender reports every loan's status once a month. The record is a picture of
the month as the books now tell it: the instalments' due dates and the days they were
paid in full (`paid_on`, which reprocessing rebuilds after a backdated repayment or a
reversal) give the 24-month repayment status string; the loan's journal lines dated up to
the month's last day give the money figures. Nothing here reads the loan's current
balances, so a month reported later says the same as on the day after it closed, unless
its history was corrected; then its figures differ and a correction record is due
(`revision_for`).

The status of one month, in the credit reference system's notation (docs/credit-reporting.md):

- ``/`` the account was not yet open (paid out after the month's last day);
- ``C`` closed (settled) on or before the month's last day; ``G`` written off by then;
- ``1`` … ``7`` the most instalments overdue at once on any day of the month (7 stands
  for seven or more): an instalment is overdue on a day after its due date until the day
  it is paid in full, that day included, so paying one day late counts;
- ``N`` an instalment fell due in the month and none was overdue;
- ``*`` the account was open, nothing fell due in the month and nothing was overdue.

The month-end figures follow close of business's own rules for the month's last day E:
arrears are the instalments due before E and unpaid at its close, their amount what was
then owed on them (principal, interest, fees and penalty), days late counted from the
oldest of them (the arrears tolerance honoured), and the five-category class is the
level the product's days-past-due rules give (grace honoured).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from lendflow.domain.classification import UpgradeRule, class_on, rank
from lendflow.domain.delinquency import classification_for, days_late, effective_dpd
from lendflow.domain.errors import BadInput

STATUS_MONTHS = 24
"""The repayment status string covers the report month and the 23 before it."""

MOST_PERIODS = 7
"""Seven or more instalments overdue at once are all written ``7``."""

NOT_OPEN = "/"
NOTHING_DUE = "*"
ON_TIME = "N"
CLOSED = "C"
WRITTEN_OFF = "G"

_MONTH = re.compile(r"(\d{4})-(\d{2})")
MIN_YEAR = 2000
MAX_YEAR = 2100

DAY = timedelta(days=1)

# Journal accounts and entry kinds, as the ledger names them (`domain.ledger`).
CASH = "cash"
LOAN_PRINCIPAL = "loan_principal"
PENALTY_RECEIVABLE = "penalty_receivable"
DISBURSEMENT = "disbursement"
REPAYMENT = "repayment"
RECOVERY = "recovery"
PAID_BY_THE_BORROWER = (REPAYMENT, RECOVERY)
"""Entries whose cash came from the borrower (a referral reward paid out names the loan too)."""
PENALTY = "penalty"
WRITE_OFF = "write_off"
APPLIED_TO_SCHEDULE = (
    "loan_principal",
    "interest_receivable",
    "interest_income",
    "fee_receivable",
    "fee_income",
    "penalty_receivable",
)
"""The accounts a repayment credits for what it pays of the instalments (a refund of
interest or fees paid ahead debits the income accounts back)."""


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month, the period a record reports."""

    year: int
    month: int

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.after(1).first - DAY

    def after(self, months: int) -> Month:
        """The month `months` later (earlier when negative)."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_month(text: str, *, field: str = "--month") -> Month:
    """A month typed as YYYY-MM, a real month in the years lendflow books anything in."""
    raw = str(text).strip()
    found = _MONTH.fullmatch(raw)
    if found is None:
        shown = raw if len(raw) <= 20 else f"{raw[:20]}…"
        raise BadInput(f"{field} is not a month: {shown!r} (use YYYY-MM)")
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        raise BadInput(f"{field} is not a month: {raw!r} (the month must be 01 to 12)")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadInput(f"{field} must fall in the years {MIN_YEAR} to {MAX_YEAR}, got {raw}")
    return Month(year, month)


def month_of(day: date) -> Month:
    return Month(day.year, day.month)


# ---------------------------------------------------------------- the status string


@dataclass(frozen=True, slots=True)
class DueDates:
    """An instalment as the status string sees it: when it fell due, when it was paid in full."""

    due_date: date
    paid_on: date | None = None


@dataclass(frozen=True, slots=True)
class AccountDates:
    """The dates of a loan's life the status string is made of."""

    opened_on: date
    instalments: tuple[DueDates, ...]
    closed_on: date | None = None
    written_off_on: date | None = None


def overdue_on(instalments: Iterable[DueDates], day: date) -> int:
    """How many instalments were overdue on `day`: due before it, not paid in full before it."""
    return sum(
        1 for i in instalments if i.due_date < day and (i.paid_on is None or i.paid_on >= day)
    )


def month_status(account: AccountDates, month: Month) -> str:
    """One month's character of the repayment status string (see the module's notation)."""
    first, last = month.first, month.last
    if account.opened_on > last:
        return NOT_OPEN
    if account.closed_on is not None and account.closed_on <= last:
        return CLOSED
    if account.written_off_on is not None and account.written_off_on <= last:
        return WRITTEN_OFF
    day = max(first, account.opened_on)
    worst = 0
    while day <= last:
        worst = max(worst, overdue_on(account.instalments, day))
        day += DAY
    if worst:
        return str(min(worst, MOST_PERIODS))
    if any(first <= i.due_date <= last for i in account.instalments):
        return ON_TIME
    return NOTHING_DUE


def status_string(account: AccountDates, month: Month, months: int = STATUS_MONTHS) -> str:
    """The repayment status of `months` months ending with `month`, oldest first."""
    return "".join(month_status(account, month.after(k - months + 1)) for k in range(months))


# ---------------------------------------------------------------- the month-end figures


@dataclass(frozen=True, slots=True)
class ScheduledInstalment:
    """An instalment as scheduled (amounts in fen, less what was waived) and when it was
    paid in full."""

    due_date: date
    principal: int
    interest: int
    fee: int
    waived: int = 0
    paid_on: date | None = None

    @property
    def amount(self) -> int:
        return self.principal + self.interest + self.fee - self.waived


@dataclass(frozen=True, slots=True)
class Movement:
    """A journal line naming the loan: its entry's date and kind (a reversal line carries
    the kind of the entry it reverses, so it takes that entry's place in every sum)."""

    on: date
    kind: str
    account: str
    debit: int
    credit: int


@dataclass(frozen=True, slots=True)
class DelinquencyRules:
    """A product's rules for days past due and the five-category class."""

    grace_days: int
    arrears_tolerance: int
    classes: tuple[tuple[str, int], ...]  # (code, min_dpd), ascending
    upgrade: UpgradeRule | None = None
    """With it, a non-performing loan is reported at the class the upgrade rule holds it
    at until the evidence is in (`domain.classification`), as close of business keeps it."""


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """The money and arrears a month's record reports, all as at the month's last day."""

    due: int
    paid: int
    outstanding: int
    overdue_amount: int
    overdue_days: int
    class_level: int  # 1 normal … 5 loss: the level's place in the product's classes


def written_off_on(movements: Iterable[Movement]) -> date | None:
    """The day the loan was written off, from its write-off entry (none: never)."""
    return min((m.on for m in movements if m.kind == WRITE_OFF), default=None)


def month_figures(
    instalments: Sequence[ScheduledInstalment],
    movements: Sequence[Movement],
    month: Month,
    rules: DelinquencyRules,
    closed_on: date | None = None,
) -> MonthFigures:
    """Due and paid in the month, principal still owed, arrears and class at its last day.

    The arrears are exact from the journal because a payment serves the oldest instalment
    first (the product's waterfall within each) and only then pays ahead: whatever of the
    instalments due before the last day was still owed is what they were scheduled to
    cost, plus the penalty charged by then, less what repayments applied to the schedule
    by then (when that is negative, payments went ahead and nothing is in arrears).
    """
    first, last = month.first, month.last
    end = closed_on if closed_on is not None and closed_on <= last else None
    due = sum(
        i.amount
        for i in instalments
        if first <= i.due_date <= last and (end is None or i.due_date <= end)
    )
    upto = [m for m in movements if m.on <= last]
    paid = sum(
        m.debit - m.credit
        for m in movements
        if m.account == CASH and m.kind in PAID_BY_THE_BORROWER and first <= m.on <= last
    )
    lent = sum(
        m.debit - m.credit for m in upto if m.kind == DISBURSEMENT and m.account == LOAN_PRINCIPAL
    )
    repaid = sum(
        m.credit - m.debit for m in upto if m.kind == REPAYMENT and m.account == LOAN_PRINCIPAL
    )
    outstanding = lent - repaid
    behind = [
        i for i in instalments if i.due_date < last and (i.paid_on is None or i.paid_on > last)
    ]
    if end is not None:
        return MonthFigures(due, paid, outstanding, 0, 0, 1)
    if not behind:
        return MonthFigures(due, paid, outstanding, 0, 0, _class_level(instalments, last, rules, 0))
    scheduled = sum(i.amount for i in instalments if i.due_date < last)
    penalty = sum(
        m.debit - m.credit for m in upto if m.kind == PENALTY and m.account == PENALTY_RECEIVABLE
    )
    applied = sum(
        m.credit - m.debit for m in upto if m.kind == REPAYMENT and m.account in APPLIED_TO_SCHEDULE
    )
    arrears = max(scheduled + penalty - applied, 0)
    oldest = min(i.due_date for i in behind)
    late = days_late(oldest, arrears, last, rules.arrears_tolerance)
    dpd = effective_dpd(late, rules.grace_days)
    level = _class_level(instalments, last, rules, dpd)
    return MonthFigures(due, paid, outstanding, arrears, late, level)


def _class_level(
    instalments: Sequence[ScheduledInstalment], last: date, rules: DelinquencyRules, dpd: int
) -> int:
    """The five-category class at the month's last day as a level (1 normal … 5 loss):
    by days past due, or the class the upgrade rule still holds the loan at if worse."""
    code = classification_for(dpd, rules.classes)
    if rules.upgrade is not None:
        history = [(i.due_date, i.paid_on) for i in instalments]
        held = class_on(last, history, rules.grace_days, rules.classes, rules.upgrade)
        code = max(code, held, key=lambda c: rank(rules.classes, c))
    return rank(rules.classes, code) + 1


# ---------------------------------------------------------------- the record and corrections


@dataclass(frozen=True, slots=True)
class BureauRecord:
    """One loan's record for one month, as the credit reference system receives it.

    `revision` is 0 for the month's first report of the account and counts the
    corrections since; a record with a revision above 0 is a correction record.
    """

    account: str
    borrower: str
    opened_on: date
    amount: int
    term: int
    method: str
    due: int
    paid: int
    outstanding: int
    overdue_amount: int
    overdue_days: int
    status: str
    class_level: int
    revision: int = 0

    @property
    def is_correction(self) -> bool:
        return self.revision > 0

    def figures(self) -> dict[str, object]:
        """What the record says of the account, without its revision: the part compared
        with what was reported before."""
        found = asdict(self)
        del found["revision"]
        found["opened_on"] = self.opened_on.isoformat()
        return found

    def canonical(self) -> str:
        """The figures as canonical JSON (sorted keys, no spaces): what is kept as reported."""
        return json.dumps(self.figures(), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """SHA-256 of the canonical figures."""
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()


def revision_for(reported: tuple[int, str] | None, digest: str) -> tuple[int, bool]:
    """The revision a record goes out with, and whether it is news to keep.

    Never reported: revision 0, kept. Reported with the same figures: the revision it
    last went out with, nothing to keep, so running a month again writes the same file.
    Reported with other figures: the next revision (a correction record), kept.
    """
    if reported is None:
        return 0, True
    revision, last_digest = reported
    if last_digest == digest:
        return revision, False
    return revision + 1, True
