"""`lendflow ledger`: the finance team's reports over the journal (trial balance,
provisions by class, the journal export for the general ledger, the month-end report)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from lendflow.cli.common import AsOption, JsonOption, acting, parse_date, write_file
from lendflow.cli.output import print_result
from lendflow.domain.credit_reporting import Month, parse_month
from lendflow.domain.errors import BadInput
from lendflow.domain.money import format_fen

app = typer.Typer(help="The ledger's reports for the finance team.", no_args_is_help=True)


def _date_option(name: str, help_text: str) -> object:
    return typer.Option(name, help=help_text, parser=parse_date(name), metavar="DATE")


AsOfOption = Annotated[
    date, typer.Option("--as-of", help="As at the end of DATE.", parser=parse_date("--as-of"),
                       metavar="DATE")
]  # fmt: skip


def _writable(path: Path, option: str) -> Path:
    """A file a person named for output: its folder must exist and it must not be a folder
    (checked before anything is read, so a bad path costs nothing)."""
    if path.is_dir():
        raise BadInput(f"{option} {path}: is a folder, not a file")
    if not path.parent.is_dir():
        raise BadInput(f"{option} {path}: the folder {path.parent} does not exist")
    return path


def _readable(path: Path | None, option: str) -> Path | None:
    if path is not None and not path.is_file():
        raise BadInput(f"{option} {path}: file not found")
    return path


@app.command("trial-balance")
def trial_balance(
    as_of: AsOfOption, user: AsOption = None, json_output: JsonOption = False
) -> None:
    """Every account's balance as at the end of a date, from the journal."""
    from lendflow.accounting.ledger import trial_balance as read

    with acting(user) as (ws, actor):
        found = read(ws, actor, as_of)
    if json_output:
        print_result(found)
        return
    from rich.table import Table

    from lendflow.cli.output import console

    table = Table(title=f"trial balance as at {found.as_of}")
    for column in ("account", "GL code", "name", "debit", "credit"):
        table.add_column(column, justify="right" if column in ("debit", "credit") else "left")
    for a in found.accounts:
        table.add_row(a.code, a.gl_code, a.name, format_fen(a.debit), format_fen(a.credit))
    table.add_row("total", "", "", format_fen(found.total_debit), format_fen(found.total_credit))
    console.print(table)


@app.command("provisions")
def provisions(as_of: AsOfOption, user: AsOption = None, json_output: JsonOption = False) -> None:
    """Loan-loss provisions by five-category class at the last month end up to a date,
    and the allowance's balance."""
    from lendflow.accounting.ledger import provisions as read

    with acting(user) as (ws, actor):
        found = read(ws, actor, as_of)
    if json_output:
        print_result(found)
        return
    if found.month_end is None:
        typer.echo(f"no month end provided for up to {found.as_of}; allowance"
                   f" {format_fen(found.allowance)}")  # fmt: skip
        return
    from rich.table import Table

    from lendflow.cli.output import console

    table = Table(title=f"provisions at {found.month_end}")
    for column in ("class", "loans", "principal", "rate %", "provision"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for c in found.classes:
        table.add_row(
            c.classification, str(c.loans), format_fen(c.principal), str(c.rate),
            format_fen(c.provision),
        )  # fmt: skip
    table.add_row("general", "", "", "", format_fen(found.general))
    table.add_row("total", "", format_fen(found.principal), "", format_fen(found.total))
    console.print(table)
    typer.echo(
        f"allowance {format_fen(found.allowance_at_month_end)} at {found.month_end},"
        f" {format_fen(found.allowance)} at {found.as_of}"
    )


@app.command("export")
def export(
    first: Annotated[date, _date_option("--from", "First business date of the window.")],
    last: Annotated[date, _date_option("--to", "Last business date of the window.")],
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="The lender's account codes (YAML like config/gl_accounts.yaml; default:"
            " gl_accounts.yaml in the workspace home, else the packaged one).",
        ),
    ] = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write the journal lines of a window as CSV under the lender's own account codes."""
    from lendflow.accounting.ledger import export_journal, gl_mapping

    _writable(out, "--out")
    _readable(mapping, "--mapping")
    if last < first:
        raise BadInput(f"--to {last} is before --from {first}")
    with acting(user) as (ws, actor):
        content, done = export_journal(ws, actor, first, last, gl_mapping(ws, mapping))
    write_file(out, content)
    if json_output:
        print_result(done)
        return
    typer.echo(
        f"journal {done.first} … {done.last}: {done.lines} lines of {done.entries} entries,"
        f" debits {format_fen(done.total_debit)} = credits {format_fen(done.total_credit)},"
        f" written to {out} (sha256 {done.sha256[:16]})"
    )


def _month(text: str) -> Month:
    return parse_month(text, field="--month")


@app.command("month-end")
def month_end(
    month: Annotated[
        Month,
        typer.Option("--month", help="The month, YYYY-MM.", parser=_month, metavar="YYYY-MM"),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report as HTML to this file.")
    ] = None,
    locale: Annotated[str, typer.Option("--locale", help="zh-CN or en.")] = "zh-CN",
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """The month's figures: income by type, receivable and suspended income, provisions
    and the allowance, write-offs and recoveries (HTML with charts with --out)."""
    from lendflow.accounting.ledger import month_end as read
    from lendflow.rendering.filters import check_locale

    check_locale(locale)
    if out is not None:
        _writable(out, "--out")
    with acting(user) as (ws, actor):
        found = read(ws, actor, month)
    if out is not None:
        from lendflow.accounting.month_end_report import render_month_end

        write_file(out, render_month_end(found, locale))
    if json_output:
        print_result(found)
        return
    typer.echo(
        f"month end {found.month}: income {format_fen(found.total_income)}, receivable"
        f" {format_fen(found.accrued)}, suspended {format_fen(found.suspended)}, provisions"
        f" charged {format_fen(found.provision_charged)}, allowance"
        f" {format_fen(found.provisions.allowance)}, written off {format_fen(found.written_off)},"
        f" recovered {format_fen(found.recoveries)}" + (f"; written to {out}" if out else "")
    )
