"""Administration: product import, the audit, the state machines."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from lendflow.cli.common import AsOption, JsonOption, OnOption, acting, business_date, parse_code
from lendflow.cli.output import print_json

audit_app = typer.Typer(help="Prove the books and the audit trail.", no_args_is_help=True)
machine_app = typer.Typer(
    help="The state machines loans and products move through.", no_args_is_help=True
)


def product_import(
    file: Annotated[Path, typer.Argument(help="Product spec YAML.")],
    activate: Annotated[bool, typer.Option("--activate", help="Make it the live version.")] = False,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Register a validated product spec as a new version (live with --activate)."""
    from lendflow.products.catalogue import import_product

    with acting(user) as (ws, actor):
        view = import_product(ws, actor, file, activate=activate, as_of=business_date(on))
    if json_output:
        print_json(view.model_dump(mode="json", include={"code", "version", "state"}))
    else:
        typer.echo(f"product {view.code} version {view.version} is {view.state}")


@audit_app.command("verify")
def verify(user: AsOption = None, json_output: JsonOption = False) -> None:
    """Check the journal balances, loans match it and their recomputed figures, documents
    their SHA-256, and the keyed event chain holds and reaches every anchor."""
    from lendflow.loans.audit import verify as verify_books

    with acting(user) as (ws, actor):
        report = verify_books(ws, actor)
    if json_output:
        print_json(report.as_dict())
    elif report.ok:
        typer.echo(
            f"OK: {report.entries_checked} journal entries balance, {report.loans_checked} loans"
            f" match the journal and their recomputed figures, {report.events_checked} events"
            f" chain intact and reach {report.anchors_checked} anchors,"
            f" {report.documents_checked} documents match their SHA-256"
        )
    else:
        for problem in report.problems:
            typer.echo(problem)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("anchor")
def anchor(on: OnOption = None, user: AsOption = None, json_output: JsonOption = False) -> None:
    """Write the event chain's head to the anchors file outside the database."""
    from lendflow.loans.audit import anchor as anchor_chain

    with acting(user) as (ws, actor):
        kept = anchor_chain(ws, actor, business_date(on))
    if json_output:
        print_json(kept.model_dump(mode="json"))
    else:
        typer.echo(f"anchored event {kept.event_id} ({kept.hash}) for {kept.business_date}")


class MachineFormat(StrEnum):
    TABLE = "table"
    MERMAID = "mermaid"


@machine_app.command("show")
def machine_show(
    name: Annotated[
        str, typer.Argument(help="Machine name, e.g. loan.", parser=parse_code("machine"))
    ],
    output: Annotated[MachineFormat, typer.Option("--format", help="table or mermaid.")] = (
        MachineFormat.TABLE
    ),
) -> None:
    """Print a machine's transitions as a table or a Mermaid diagram."""
    from lendflow.domain.errors import NotFound
    from lendflow.states.definition import machines_folder
    from lendflow.states.machine import machine

    if not (machines_folder() / f"{name}.yaml").exists():
        known = ", ".join(sorted(p.stem for p in machines_folder().glob("*.yaml")))
        raise NotFound(f"no machine {name!r} (known: {known})")
    m = machine(name)
    if output is MachineFormat.MERMAID:
        typer.echo(m.mermaid())
        return
    from lendflow.cli.tables import print_rows

    rows = [
        {
            "trigger": t.trigger,
            "from": ", ".join(t.source),
            "to": t.dest,
            "guards": ", ".join(t.conditions),
        }
        for t in m.definition.transitions
    ]
    print_rows(f"{name} machine", rows, ["trigger", "from", "to", "guards"])
