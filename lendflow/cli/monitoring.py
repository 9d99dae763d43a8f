"""Live operation: portfolio indicators and customer service tickets."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from lendflow.cli.common import (
    AsOption,
    JsonOption,
    OnOption,
    ProductOption,
    acting,
    business_date,
    parse_code,
    parse_date,
    parse_id,
    parse_line,
    parse_note,
)
from lendflow.cli.output import console, print_json

if TYPE_CHECKING:
    from lendflow.monitoring.results import ProductKpis

kpi_app = typer.Typer(help="Portfolio indicators of a product.", no_args_is_help=True)
ticket_app = typer.Typer(help="Customer service tickets.", no_args_is_help=True)


@kpi_app.command("show")
def kpi_show(
    code: Annotated[str, typer.Argument(help="Product code.", parser=parse_code("product code"))],
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            help="Business date (default: today).",
            parser=parse_date("--as-of"),
            metavar="DATE",
        ),
    ] = None,
    version: Annotated[
        int | None, typer.Option(help="Only this product version.", parser=parse_id("--version"))
    ] = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """KPIs as of a business date: approvals, book, PAR, non-performing ratio, alerts."""
    from lendflow.monitoring.kpis import product_kpis

    with acting(user) as (ws, actor):
        report = product_kpis(ws, actor, code, business_date(as_of), version)
    if json_output:
        print_json(report.model_dump(mode="json"))
        return
    _print_kpis(report)


def _print_kpis(report: ProductKpis) -> None:
    from rich.table import Table

    table = Table(title=f"{report.product} v{report.version} as of {report.as_of}")
    table.add_column("indicator")
    table.add_column("value", justify="right")
    for key, value in report.kpis.model_dump(mode="json").items():
        if not isinstance(value, dict):
            table.add_row(key.replace("_", " "), str(value))
    table.add_row("buckets", ", ".join(f"{k} {v}" for k, v in report.kpis.buckets.items()))
    console.print(table)
    for alert in report.alerts:
        console.print(f"[bold red]ALERT[/] {alert.message}")
    if not report.alerts:
        console.print("no alerts")


@ticket_app.command("open")
def ticket_open(
    kind: Annotated[str, typer.Argument(help="complaint or question", parser=parse_code("kind"))],
    subject: Annotated[
        str, typer.Option(help="One line: what it is about.", parser=parse_line("--subject"))
    ],
    loan: Annotated[
        int | None, typer.Option(help="The loan it concerns.", parser=parse_id("--loan"))
    ] = None,
    customer: Annotated[
        int | None, typer.Option(help="The customer it concerns.", parser=parse_id("--customer"))
    ] = None,
    product: Annotated[
        str | None,
        typer.Option(help="Product, when no loan is named.", parser=parse_code("--product")),
    ] = None,
    channel: Annotated[
        str,
        typer.Option(help="phone, app, wechat, email, branch, …", parser=parse_code("--channel")),
    ] = "phone",
    details: Annotated[
        str | None, typer.Option(help="What the customer said.", parser=parse_note("--details"))
    ] = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record a complaint or question; prints its id and deadline."""
    from lendflow.monitoring.tickets import NewTicket, open_ticket

    new = NewTicket(kind, subject, channel, details, loan, customer, product)
    with acting(user) as (ws, actor):
        ticket = open_ticket(ws, actor, new, business_date(on))
    if json_output:
        print_json(ticket.model_dump(mode="json"))
        return
    typer.echo(f"ticket {ticket.id} opened; resolve by {ticket.due_on}")


@ticket_app.command("resolve")
def ticket_resolve(
    ticket_id: Annotated[int, typer.Argument(help="Ticket id.", parser=parse_id("ticket id"))],
    resolution: Annotated[
        str, typer.Option(help="What was done.", parser=parse_note("--resolution"))
    ],
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Close a ticket with its resolution."""
    from lendflow.monitoring.tickets import resolve

    with acting(user) as (ws, actor):
        ticket = resolve(ws, actor, ticket_id, resolution, business_date(on))
    if json_output:
        print_json(ticket.model_dump(mode="json"))
        return
    late = " (after its deadline)" if ticket.breached else ""
    typer.echo(f"ticket {ticket_id} resolved{late}")


@ticket_app.command("list")
def ticket_list(
    open_only: Annotated[bool, typer.Option("--open", help="Only open tickets.")] = False,
    breached: Annotated[bool, typer.Option("--breached", help="Only breached ones.")] = False,
    product: ProductOption = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Tickets with deadlines; a breach is flagged."""
    from lendflow.monitoring.tickets import list_tickets

    with acting(user) as (ws, actor):
        tickets = list_tickets(
            ws, actor, business_date(on), open_only=open_only, breached_only=breached,
            product=product,
        )  # fmt: skip
    rows = [t.model_dump(mode="json") for t in tickets]
    if json_output:
        print_json(rows)
        return
    from lendflow.cli.tables import print_rows

    shown = [{**r, "breached": "BREACHED" if r["breached"] else ""} for r in rows]
    columns = ["id", "kind", "state", "loan_id", "subject", "opened_on", "due_on", "breached"]
    print_rows("Service tickets", shown, columns)
