"""`lendflow consent`: the authorisations given with a loan's application."""

from __future__ import annotations

from typing import Annotated

import typer

from lendflow.cli.common import (
    AsOption,
    JsonOption,
    OnOption,
    acting,
    business_date,
    parse_code,
    parse_id,
)
from lendflow.cli.output import print_json

app = typer.Typer(help="Consents given with applications.", no_args_is_help=True)
LoanId = Annotated[int, typer.Argument(help="Loan id.", parser=parse_id("loan id"))]


@app.command("list")
def list_consents(loan_id: LoanId, user: AsOption = None, json_output: JsonOption = False) -> None:
    """The consents given with a loan's application: the words' version and SHA-256, the
    channel, the date, and when withdrawn."""
    from lendflow.loans.consents import loan_consents

    with acting(user) as (ws, actor):
        found = loan_consents(ws, actor, loan_id)
    rows = [c.model_dump(mode="json") for c in found]
    if json_output:
        print_json(rows)
        return
    from lendflow.cli.tables import print_rows

    columns = ["name", "version", "locale", "channel", "given_on", "withdrawn_on"]
    print_rows(f"Consents of loan {loan_id}", rows, columns)


@app.command("withdraw")
def withdraw(
    loan_id: LoanId,
    name: Annotated[
        str, typer.Argument(help="The consent, e.g. credit_check.", parser=parse_code("NAME"))
    ],
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record that the borrower took a consent back (an event; later credit checks stop)."""
    from lendflow.loans.consents import withdraw as withdraw_consent

    with acting(user) as (ws, actor):
        done = withdraw_consent(ws, actor, loan_id, name, business_date(on))
    if json_output:
        print_json(done.model_dump(mode="json"))
        return
    typer.echo(f"consent {done.name} of loan {loan_id} withdrawn on {done.withdrawn_on}")
