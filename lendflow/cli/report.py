"""`lendflow report`: what the lender sends out each month (the credit reference system)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lendflow.cli.common import AsOption, JsonOption, OnOption, acting, business_date
from lendflow.cli.output import print_json
from lendflow.domain.credit_reporting import Month, parse_month
from lendflow.domain.money import format_fen

app = typer.Typer(help="Reports the lender sends out.", no_args_is_help=True)


def _month(text: str) -> Month:
    return parse_month(text, field="--month")


@app.command("credit-bureau")
def credit_bureau(
    month: Annotated[
        Month,
        typer.Option(
            "--month", help="The month to report, YYYY-MM.", parser=_month, metavar="YYYY-MM"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="The file to write the month's records to.")],
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write the month's records for the credit reference system (docs/credit-reporting.md).

    One record per reportable loan; a loan whose figures changed since the month was last
    reported goes out as a correction record. Refused, writing nothing, for a month close
    of business has not closed.
    """
    from lendflow.loans.credit_reporting import report_month

    with acting(user) as (ws, actor):
        done = report_month(ws, actor, month, business_date(on), ws.credit_bureau(out))
    if json_output:
        print_json(done.model_dump(mode="json"))
        return
    typer.echo(
        f"credit bureau {done.month}: {done.records} records ({done.corrections} corrections,"
        f" {done.first_reported} first reported), outstanding {format_fen(done.outstanding)},"
        f" written to {done.destination} (sha256 {done.sha256[:16]})"
    )
