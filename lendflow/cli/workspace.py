"""Workspace commands: `init` and the `demo`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from lendflow.cli.output import console, print_json

DEMO_DISBURSED = date(2026, 1, 15)  # a fixed business date: the demo never reads the clock


def init(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Create the workspace (home, secret key, database at the newest schema); safe to rerun."""
    from lendflow.config.settings import load_settings
    from lendflow.services.workspace import init_workspace

    report = init_workspace(load_settings())
    if json_output:
        print_json(
            {
                "home": str(report.home),
                "database": report.database_url,
                "revision": report.revision,
                "key_created": report.key_created,
                "home_created": report.home_created,
            }
        )
        return
    verb = "created" if report.home_created else "ready"
    typer.echo(
        f"workspace {verb} at {report.home} (database {report.database_url},"
        f" schema {report.revision})"
    )
    if report.key_created:
        typer.echo(f"secret key written to {report.home}/secret.key (mode 600): back it up")


def demo() -> None:
    """Initialise a workspace and quote a sample loan of the example consumer product."""
    from lendflow.cli.tables import print_schedule
    from lendflow.config.product_spec import example_product_paths, load_product
    from lendflow.config.settings import load_settings
    from lendflow.domain.apr import apr_of_schedule
    from lendflow.domain.schedule import generate
    from lendflow.services.workspace import init_workspace

    report = init_workspace(load_settings())
    console.print(f"workspace ready at {report.home} (schema {report.revision})", highlight=False)
    spec = load_product(example_product_paths()[0])
    amount = spec.amount.min * 10 if spec.amount.min * 10 <= spec.amount.max else spec.amount.max
    term = spec.terms[len(spec.terms) // 2]
    schedule = generate(spec.schedule_terms(amount, term, DEMO_DISBURSED))
    console.print(
        f"\n{spec.name.zh_CN} / {spec.name.en} — {spec.method_name_zh}, {spec.rate.annual}% a year",
        highlight=False,
    )
    print_schedule(schedule, apr_of_schedule(schedule))


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("demo")(demo)
