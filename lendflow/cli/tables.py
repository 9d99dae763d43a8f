"""Rich tables for people reading schedules and reports in a terminal."""

from __future__ import annotations

from rich.table import Table

from lendflow.cli.output import console
from lendflow.domain.apr import Apr
from lendflow.domain.money import format_grouped
from lendflow.domain.schedule import Schedule
from lendflow.services.presenters import percent


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
