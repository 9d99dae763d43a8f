"""`lendflow docs`: render a product's or a loan's documents; list what a loan was issued."""

from __future__ import annotations

import sys
from pathlib import Path
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
from lendflow.cli.output import console, print_json
from lendflow.domain.errors import BadInput

app = typer.Typer(
    help="Product brochures, contracts, risk disclosures and overdue notices.",
    no_args_is_help=True,
)

KindArgument = Annotated[
    str,
    typer.Argument(
        help="brochure, contract, risk-disclosure, overdue-notice or acceleration-notice.",
        parser=parse_code("kind"),
    ),
]


@app.command("render")
def render(
    kind: KindArgument,
    product: Annotated[
        str | None,
        typer.Option(help="Product code (its live version).", parser=parse_code("--product")),
    ] = None,
    loan: Annotated[
        int | None, typer.Option(help="Loan id: that loan's document.", parser=parse_id("--loan"))
    ] = None,
    locale: Annotated[
        str | None,
        typer.Option(help="zh-CN or en (default: LENDFLOW_LOCALE).", parser=parse_code("--locale")),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="md, html or pdf.", parser=parse_code("--format"))
    ] = "md",
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    on: OnOption = None,
    user: AsOption = None,
) -> None:
    """Render a document; without --loan a product's (the contract as a specimen)."""
    from lendflow.documents import issuing as documents

    if fmt == "pdf" and out is None:
        raise BadInput("--format pdf writes a file: give --out PATH")
    with acting(user) as (ws, actor):
        rendered = documents.render(
            ws,
            actor,
            kind,
            product=product,
            loan_id=loan,
            locale=locale or ws.settings.locale,
            fmt=fmt,
            as_of=business_date(on),
        )
    if out is None:
        sys.stdout.write(rendered.content.decode("utf-8"))
        return
    try:
        out.write_bytes(rendered.content)
    except OSError as exc:
        raise BadInput(f"--out {out}: {exc.strerror or exc}") from None
    typer.echo(f"{out}: {len(rendered.content)} bytes, sha256 {rendered.sha256}")


@app.command("list")
def list_documents(
    loan: Annotated[int, typer.Option(help="Loan id.", parser=parse_id("--loan"))],
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """The documents issued for a loan (its contract at disbursement), with their SHA-256."""
    from lendflow.documents import issuing as documents

    with acting(user) as (ws, actor):
        issued = documents.list_documents(ws, actor, loan)
    if json_output:
        print_json([d.model_dump(mode="json") for d in issued])
        return
    if not issued:
        typer.echo(f"loan {loan} has no documents")
        return
    from rich.table import Table

    table = Table("id", "kind", "locale", "type", "bytes", "date", "sha256")
    for d in issued:
        table.add_row(
            str(d.id),
            d.kind,
            d.locale,
            d.media_type,
            str(d.size),
            d.business_date.isoformat(),
            d.sha256,
        )
    console.print(table)


@app.command("get")
def get(
    document: Annotated[
        int, typer.Argument(help="Document id (see docs list).", parser=parse_id("document id"))
    ],
    out: Annotated[Path, typer.Option(help="Write the document as issued to this file.")],
    user: AsOption = None,
) -> None:
    """Write a document exactly as issued (its SHA-256 is checked first)."""
    from lendflow.documents import issuing as documents

    with acting(user) as (ws, actor):
        issued, content = documents.stored_content(ws, actor, document)
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise BadInput(f"--out {out}: {exc.strerror or exc}") from None
    typer.echo(f"{out}: {issued.kind} of loan {issued.loan_id}, sha256 {issued.sha256}")
