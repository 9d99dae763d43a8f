"""`lendflow collection`: the log of contacts with borrowers about money owed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from lendflow.cli.common import AsOption, JsonOption, acting, parse_code, parse_id
from lendflow.cli.output import print_json
from lendflow.domain import bounds
from lendflow.domain.errors import BadInput

app = typer.Typer(help="Contacts with borrowers about money owed.", no_args_is_help=True)
LoanId = Annotated[int, typer.Argument(help="Loan id.", parser=parse_id("loan id"))]


def parse_local_time(text: str) -> datetime:
    """A local (Asia/Shanghai) moment like 2026-02-10T14:30, within the bounded years."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"--at must be a local time like 2026-02-10T14:30, got {text!r}") from None
    if moment.tzinfo is not None:
        raise BadInput("--at is the local time in Asia/Shanghai: leave the zone out")
    bounds.check_date(moment.date(), field="--at")
    return moment


@app.command("log")
def log(
    loan_id: LoanId,
    channel: Annotated[
        str, typer.Option(help="call, sms, letter or visit.", parser=parse_code("--channel"))
    ],
    outcome: Annotated[
        str,
        typer.Option(
            help="promised_to_pay, no_answer, disputed, …", parser=parse_code("--outcome")
        ),
    ],
    at: Annotated[
        datetime,
        typer.Option(
            help="Local time of the contact, e.g. 2026-02-10T14:30.", parser=parse_local_time
        ),
    ],
    to: Annotated[
        str, typer.Option(help="Who was contacted (the borrower only).", parser=parse_code("--to"))
    ] = "borrower",
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record a contact; one outside the policy's hours, over its daily limit or with
    anyone but the borrower is refused with the rule named, and nothing is recorded."""
    from lendflow.loans.collection import log_contact

    with acting(user) as (ws, actor):
        contact = log_contact(ws, actor, loan_id, channel, outcome, at, to)
    if json_output:
        print_json(contact.model_dump(mode="json"))
        return
    typer.echo(f"contact {contact.id} logged: loan {loan_id}, {channel} at {contact.contacted_at}")


@app.command("list")
def list_contacts(loan_id: LoanId, user: AsOption = None, json_output: JsonOption = False) -> None:
    """A loan's contacts, oldest first."""
    from lendflow.loans.collection import contacts

    with acting(user) as (ws, actor):
        found = contacts(ws, actor, loan_id)
    rows = [c.model_dump(mode="json") for c in found]
    if json_output:
        print_json(rows)
        return
    from lendflow.cli.tables import print_rows

    columns = ["id", "contacted_at", "channel", "recipient", "outcome", "actor"]
    print_rows(f"Collection contacts of loan {loan_id}", rows, columns)
