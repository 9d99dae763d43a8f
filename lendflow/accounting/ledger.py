"""The finance team's reports over the journal: the trial balance, the month-end
provisions by class, the journal for the general ledger and the month-end figures.

Every figure is read from the journal (and, for the class breakdown, from the provisions
close of business kept at each month end), never from the loans' cached balances, so the
reports agree with what `audit verify` proves. Plain reads in one transaction each.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from lendflow.access.permissions import Actor, Permission
from lendflow.accounting.results import (
    AllowancePoint,
    ClassProvisionLine,
    IncomeLine,
    JournalExport,
    MonthEndReport,
    ProvisionReport,
    TrialBalance,
    TrialBalanceAccount,
)
from lendflow.config.gl_accounts import GlMapping, load_gl_mapping
from lendflow.domain.credit_reporting import Month
from lendflow.domain.errors import BadInput
from lendflow.domain.ledger import (
    ACCRUED_ACCOUNTS,
    INCOME_TYPES,
    SUSPENSE_ACCOUNTS,
    Account,
)
from lendflow.domain.ledger import (
    trial_balance as balances_of,
)
from lendflow.domain.money import format_fen
from lendflow.domain.provisions import DEFAULT_RATES
from lendflow.store import ledger_reports as store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

EXPORT_COLUMNS = (
    "entry", "business_date", "kind", "loan", "account", "gl_code", "gl_name", "debit",
    "credit", "reverses",
)  # fmt: skip
MONTHS_CHARTED = 12


def gl_mapping(ws: Workspace, path: Path | None = None) -> GlMapping:
    """The mapping named, else the workspace's own gl_accounts.yaml, else the packaged one."""
    return load_gl_mapping(path, ws.settings.home)


def trial_balance(
    ws: Workspace, actor: Actor, as_of: date, mapping: GlMapping | None = None
) -> TrialBalance:
    """Every account's balance as at the end of `as_of`, from the journal."""
    actor.require(Permission.READ_LEDGER, "read the ledger")
    chart = mapping or gl_mapping(ws)
    sums = run_in_transaction(ws.engine, lambda uow: store.account_sums(uow, as_of))
    return _trial_balance(as_of, sums, chart)


def _trial_balance(as_of: date, sums: dict[str, tuple[int, int]], chart: GlMapping) -> TrialBalance:
    accounts = tuple(
        TrialBalanceAccount(
            code=code,
            name=chart.of(code).name,
            gl_code=chart.of(code).code,
            debit=debit,
            credit=credit,
            balance=balance,
        )
        for code, debit, credit, balance in balances_of(sums)
    )
    return TrialBalance(
        as_of=as_of,
        accounts=accounts,
        total_debit=sum(a.debit for a in accounts),
        total_credit=sum(a.credit for a in accounts),
    )


def provisions(ws: Workspace, actor: Actor, as_of: date) -> ProvisionReport:
    """The provisions by class of the last month end up to `as_of`, and the allowance."""
    actor.require(Permission.READ_LEDGER, "read the ledger")
    return run_in_transaction(ws.engine, lambda uow: _provisions(uow, as_of))


def _allowance(sums: dict[str, tuple[int, int]]) -> int:
    debit, credit = sums.get(Account.LOAN_LOSS_ALLOWANCE.value, (0, 0))
    return credit - debit


def _provisions(uow: UnitOfWork, as_of: date) -> ProvisionReport:
    month_end = store.last_month_end(uow, as_of)
    rows = store.provisions_by_class(uow, month_end) if month_end else []
    order = list(DEFAULT_RATES)
    rows.sort(
        key=lambda r: (
            order.index(r["classification"]) if r["classification"] in order else len(order),
            r["classification"],
            Decimal(r["rate"]),
        )
    )
    classes = tuple(
        ClassProvisionLine(
            classification=r["classification"],
            loans=r["loans"],
            principal=r["principal"],
            rate=Decimal(r["rate"]),
            provision=r["specific"],
        )
        for r in rows
    )
    specific = sum(r["specific"] for r in rows)
    general = sum(r["general"] for r in rows)
    at_month_end = _allowance(store.account_sums(uow, month_end)) if month_end else 0
    return ProvisionReport(
        as_of=as_of,
        month_end=month_end,
        classes=classes,
        principal=sum(r["principal"] for r in rows),
        specific=specific,
        general=general,
        total=specific + general,
        allowance_at_month_end=at_month_end,
        allowance=_allowance(store.account_sums(uow, as_of)),
    )


def export_journal(
    ws: Workspace,
    actor: Actor,
    first: date,
    last: date,
    mapping: GlMapping | None = None,
) -> tuple[bytes, JournalExport]:
    """The journal lines of the entries dated `first` … `last` as CSV for the general
    ledger (UTF-8, one line per journal line, amounts in yuan with two places, each line
    under the lender's own account code), and what went into it."""
    actor.require(Permission.READ_LEDGER, "export the journal")
    if last < first:
        raise BadInput(f"the window ends ({last}) before it starts ({first})")
    chart = mapping or gl_mapping(ws)

    def read(uow: UnitOfWork) -> tuple[bytes, JournalExport]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        lines = debit = credit = 0
        entries: set[int] = set()
        for line in store.lines_between(uow, first, last):
            gl = chart.of(line["account"])
            writer.writerow(
                (
                    line["entry_id"],
                    line["business_date"].isoformat(),
                    line["kind"],
                    "" if line["loan_id"] is None else line["loan_id"],
                    line["account"],
                    gl.code,
                    gl.name,
                    format_fen(int(line["debit"])),
                    format_fen(int(line["credit"])),
                    "" if line["reversal_of"] is None else line["reversal_of"],
                )
            )
            lines += 1
            entries.add(line["entry_id"])
            debit += int(line["debit"])
            credit += int(line["credit"])
        content = out.getvalue().encode("utf-8")
        done = JournalExport(
            first=first,
            last=last,
            lines=lines,
            entries=len(entries),
            total_debit=debit,
            total_credit=credit,
            sha256=hashlib.sha256(content).hexdigest(),
        )
        return content, done

    return run_in_transaction(ws.engine, read)


def month_end(ws: Workspace, actor: Actor, month: Month) -> MonthEndReport:
    """The month's figures from the journal: income by type, receivable and suspended
    income at its end, its provision expense and provisions, write-offs and recoveries."""
    actor.require(Permission.READ_LEDGER, "read the month-end report")

    def read(uow: UnitOfWork) -> MonthEndReport:
        moved = store.account_sums(uow, month.last, since=month.first)
        at_end = store.account_sums(uow, month.last)
        income = []
        for kind, (account, contra) in INCOME_TYPES.items():
            debit, credit = moved.get(account.value, (0, 0))
            charged = credit - debit
            waived = 0
            if contra is not None:
                c_debit, c_credit = moved.get(contra.value, (0, 0))
                waived = c_debit - c_credit
            income.append(
                IncomeLine(kind=kind, charged=charged, waived=waived, net=charged - waived)
            )
        written = store.kind_sums(uow, month.first, month.last, "write_off")
        recovered = store.kind_sums(uow, month.first, month.last, "recovery")
        expense = moved.get(Account.PROVISION_EXPENSE.value, (0, 0))
        history = []
        for back in range(MONTHS_CHARTED - 1, -1, -1):
            end = month.after(-back).last
            history.append(
                AllowancePoint(month_end=end, allowance=_allowance(store.account_sums(uow, end)))
            )
        return MonthEndReport(
            month=str(month),
            first=month.first,
            last=month.last,
            income=tuple(income),
            total_income=sum(line.net for line in income),
            accrued=sum(_debit_balance(at_end, a) for a in ACCRUED_ACCOUNTS),
            suspended=sum(-_debit_balance(at_end, a) for a in SUSPENSE_ACCOUNTS),
            provision_charged=expense[0] - expense[1],
            provisions=_provisions(uow, month.last),
            written_off=sum(
                written.get(a.value, (0, 0))[0]
                for a in (Account.WRITE_OFF_EXPENSE, Account.LOAN_LOSS_ALLOWANCE)
            ),
            written_off_from_allowance=written.get(Account.LOAN_LOSS_ALLOWANCE.value, (0, 0))[0],
            recoveries=recovered.get(Account.CASH.value, (0, 0))[0],
            allowance_history=tuple(history),
        )

    return run_in_transaction(ws.engine, read)


def _debit_balance(sums: dict[str, tuple[int, int]], account: Account) -> int:
    debit, credit = sums.get(account.value, (0, 0))
    return debit - credit
