"""Rich tables for people reading schedules and reports in a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from lendflow.cli.output import console
from lendflow.domain.apr import ACTUAL_DATES_BASIS, Apr
from lendflow.domain.business_days import MovedSchedule, NonWorkingDue
from lendflow.domain.money import format_fen, format_grouped
from lendflow.domain.schedule import Schedule
from lendflow.loans.presenters import percent

if TYPE_CHECKING:
    from lendflow.loans.results import Apr as LoanApr
    from lendflow.loans.results import LoanResult, LoanSchedule, TransactionPage


def print_schedule(result: Schedule, apr: Apr, dates: MovedSchedule | None = None) -> None:
    """A schedule with its totals, any upfront fee, and the APR on each basis: per
    repayment period (compound and simple) and over the actual dates; under a rule for
    non-working due dates, which dates moved or are on time until when."""
    table = Table(title=f"Repayment schedule (disbursed {result.terms.disbursed.isoformat()})")
    for column in ("#", "Due date", "Principal", "Interest", "Fee", "Total", "Balance"):
        table.add_column(column, justify="left" if column == "Due date" else "right")
    for row in result.instalments:
        table.add_row(
            str(row.n),
            row.due_date.isoformat(),
            format_grouped(row.principal),
            format_grouped(row.interest),
            format_grouped(row.fee),
            format_grouped(row.total),
            format_grouped(row.balance),
        )
    table.add_section()
    table.add_row(
        "",
        "Total",
        format_grouped(result.total_principal),
        format_grouped(result.total_interest),
        format_grouped(result.total_fees - result.terms.upfront_fee),
        format_grouped(result.total_repayable),
        "",
    )
    console.print(table)
    if result.terms.upfront_fee:
        console.print(f"Upfront fee at disbursement: {format_grouped(result.terms.upfront_fee)}")
    console.print(
        f"APR: {percent(apr.compound)}% (IRR, compound 复利)"
        f"   {percent(apr.simple)}% (simple 单利)"
        f"   {percent(apr.actual_dates)}% ({ACTUAL_DATES_BASIS})",
        highlight=False,
    )
    if dates is not None:
        print_due_notes(result, dates)


def print_due_notes(result: Schedule, dates: MovedSchedule) -> None:
    """One line per instalment the business-day calendar touched, and any year assumed."""
    rule = dates.rule
    if rule is NonWorkingDue.IGNORE:
        return
    for row, until in zip(result.instalments, dates.on_time_until, strict=True):
        if rule is NonWorkingDue.KEEP_WITH_GRACE and until != row.due_date:
            console.print(
                f"#{row.n} is due on {row.due_date.isoformat()}, not a working day:"
                f" paid by {until.isoformat()} it is on time",
                highlight=False,
            )
    if dates.assumed_years:
        years = ", ".join(str(y) for y in dates.assumed_years)
        console.print(
            f"Warning: the calendar does not know the public holidays of {years};"
            " due dates there avoid weekends only",
            highlight=False,
        )


def print_rows(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain table of dict rows, one column per key."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*[_cell(row.get(column)) for column in columns])
    console.print(table)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _apr_line(apr: LoanApr) -> str:
    """The loan's APR on each basis it was recorded with."""
    line = f"{apr.compound}% (IRR) / {apr.simple}% (simple)"
    if apr.actual_dates is not None:
        line += f" / {apr.actual_dates}% ({ACTUAL_DATES_BASIS})"
    return line


def print_loan(loan: LoanResult) -> None:
    """A loan at a glance for an operator."""
    customer = loan.customer
    apr = loan.apr
    approved = "—" if loan.approved is None else format_fen(loan.approved)
    lines = [
        f"loan {loan.id} — {loan.status} — {loan.product} (version id {loan.product_version_id})",
        f"customer {customer.id}: {customer.name}  ID {customer.national_id}"
        f"  phone {customer.phone}",
        f"requested {format_fen(loan.requested)}  approved {approved}"
        f"  principal {format_fen(loan.principal)}  term {loan.term}  method {loan.method}",
        f"rate {loan.annual_rate}% a year" + (f"  APR {_apr_line(apr)}" if apr else ""),
    ]
    out = loan.outstanding
    lines.append(
        f"outstanding on {loan.as_of}: principal {format_fen(out.principal)}"
        f"  interest {format_fen(out.interest)}  fees {format_fen(out.fees)}"
        f"  penalty {format_fen(out.penalty)}  total {format_fen(out.total)}"
    )
    lines.append(f"days past due {loan.dpd}  bucket {loan.bucket}  class {loan.classification}")
    if loan.payoff is not None:
        lines.append(f"payoff today {format_fen(loan.payoff)}")
    for line in lines:
        console.print(line, highlight=False, markup=False)


def print_loan_schedule(schedule: LoanSchedule) -> None:
    table = Table(title=f"Schedule of loan {schedule.loan_id}")
    for column in (
        "#",
        "Due date",
        "Principal",
        "Interest",
        "Fee",
        "Penalty",
        "Total",
        "Paid",
        "Paid on",
    ):
        table.add_column(column, justify="left" if column in ("Due date", "Paid on") else "right")
    for row in schedule.instalments:
        due = row.due_date.isoformat()
        if row.on_time_until is not None:  # a non-working day: on time until the next working one
            due += f" (on time to {row.on_time_until.isoformat()})"
        table.add_row(
            str(row.n),
            due,
            format_fen(row.principal),
            format_fen(row.interest),
            format_fen(row.fee),
            format_fen(row.penalty),
            format_fen(row.total),
            format_fen(row.paid.total),
            row.paid_on.isoformat() if row.paid_on else "",
        )
    console.print(table)


def print_loan_transactions(loan_id: int, page: TransactionPage) -> None:
    """The loan's journal entries, a row per line: the entry's date, kind, memo (or the
    payer's reference) and reversal shown on its first line."""
    table = Table(title=f"Transactions of loan {loan_id}")
    for column in ("Entry", "Date", "Kind", "Account", "Debit", "Credit", "Memo", "Reversed by"):
        table.add_column(column, justify="right" if column in ("Debit", "Credit") else "left")
    for entry in page.items:
        memo = entry.memo + (f" (ref {entry.reference})" if entry.reference else "")
        for n, line in enumerate(entry.lines):
            first = n == 0
            table.add_row(
                str(entry.id) if first else "",
                entry.business_date.isoformat() if first else "",
                entry.kind if first else "",
                line.account,
                format_fen(line.debit) if line.debit else "",
                format_fen(line.credit) if line.credit else "",
                memo if first else "",
                _cell(entry.reversed_by) if first else "",
            )
    console.print(table)
