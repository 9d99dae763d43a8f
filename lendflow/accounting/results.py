"""What the accounting use cases answer: money in integer fen ("1409.50" in JSON), rates
in percent as `Decimal`, dates as dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from lendflow.workspace.results import Fen, Result


class TrialBalanceAccount(Result):
    """One account's balance: on its debit or its credit side, and signed (debit positive)."""

    code: str
    """lendflow's account code (`domain.ledger.Account`)."""
    name: str
    """The lender's name for it (gl_accounts.yaml)."""
    gl_code: str
    debit: Fen
    credit: Fen
    balance: Fen


class TrialBalance(Result):
    """Every account of the chart and any other the journal holds, as at a date; the debit
    and credit columns add up to the same total when the journal balances."""

    as_of: date
    accounts: tuple[TrialBalanceAccount, ...]
    total_debit: Fen
    total_credit: Fen


class ClassProvisionLine(Result):
    classification: str
    loans: int
    principal: Fen
    rate: Decimal
    """Percent of principal."""
    provision: Fen


class ProvisionReport(Result):
    """The provisions close of business computed at the last month end up to `as_of`, by
    class, and the allowance the journal holds then and at `as_of`."""

    as_of: date
    month_end: date | None
    """None: no month end has been provided for yet."""
    classes: tuple[ClassProvisionLine, ...]
    principal: Fen
    specific: Fen
    """The classes' provisions together."""
    general: Fen
    total: Fen
    allowance_at_month_end: Fen
    allowance: Fen
    """The allowance's balance at `as_of` (write-offs since the month end use it,
    recoveries restore it)."""


class JournalExport(Result):
    """A window of the journal written for the general ledger."""

    first: date = Field(alias="from")
    last: date = Field(alias="to")
    lines: int
    entries: int
    total_debit: Fen
    total_credit: Fen
    sha256: str


class IncomeLine(Result):
    """Income of a type in the month: charged, less given up, the net."""

    kind: str
    charged: Fen
    waived: Fen
    net: Fen


class AllowancePoint(Result):
    month_end: date
    allowance: Fen


class MonthEndReport(Result):
    """A month closed: income by type, what is receivable and what is held in suspense
    at its end, provisions and the allowance, write-offs and recoveries."""

    month: str
    first: date
    last: date
    income: tuple[IncomeLine, ...]
    total_income: Fen
    accrued: Fen
    """Interest, fees and penalty earned and not yet received at the month's end."""
    suspended: Fen
    """Income held in suspense (not recognised) at the month's end."""
    provision_charged: Fen
    """The month's provision expense, net of releases."""
    provisions: ProvisionReport
    written_off: Fen
    written_off_from_allowance: Fen
    recoveries: Fen
    allowance_history: tuple[AllowancePoint, ...]
    """The allowance at each of the twelve month ends up to this one (for the chart)."""
