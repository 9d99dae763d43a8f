"""Rich tables for people reading schedules and reports in a terminal."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from lendflow.cli.output import console
from lendflow.domain.apr import Apr
from lendflow.domain.money import format_grouped
from lendflow.domain.schedule import Schedule
from lendflow.loans.presenters import percent


def print_schedule(result: Schedule, apr: Apr) -> None:
    """A schedule with its totals, any upfront fee, and the APR by both conventions."""
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
        f"   {percent(apr.simple)}% (simple 单利)",
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


def print_loan(view: dict[str, Any]) -> None:
    """A loan at a glance for an operator."""
    customer = view["customer"]
    apr = view["apr"]
    lines = [
        f"loan {view['id']} — {view['state']} — {view['product']}"
        f" (version id {view['product_version_id']})",
        f"customer {customer['id']}: {customer['name']}  ID {customer['national_id']}"
        f"  phone {customer['phone']}",
        f"requested {view['requested']}  approved {view['approved'] or '—'}"
        f"  principal {view['principal']}  term {view['term']}  method {view['method']}",
        f"rate {view['annual_rate']}% a year"
        + (f"  APR {apr['compound']}% (IRR) / {apr['simple']}% (simple)" if apr else ""),
    ]
    out = view["outstanding"]
    lines.append(
        f"outstanding on {view['as_of']}: principal {out['principal']}  interest {out['interest']}"
        f"  fees {out['fees']}  penalty {out['penalty']}  total {out['total']}"
    )
    lines.append(
        f"days past due {view['dpd']}  bucket {view['bucket']}  class {view['classification']}"
    )
    if view.get("payoff"):
        lines.append(f"payoff today {view['payoff']}")
    for line in lines:
        console.print(line, highlight=False, markup=False)


def print_loan_schedule(view: dict[str, Any]) -> None:
    table = Table(title=f"Schedule of loan {view['loan_id']}")
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
    for row in view["instalments"]:
        table.add_row(
            str(row["n"]),
            row["due_date"],
            row["principal"],
            row["interest"],
            row["fee"],
            row["penalty"],
            row["total"],
            row["paid"]["total"],
            row["paid_on"] or "",
        )
    console.print(table)
