"""Workspace commands: `init` (and the `demo`, from cli/demo.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from lendflow.cli.output import print_json


def init(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Create the workspace (home, secret key, database at the newest schema); safe to rerun."""
    from lendflow.bootstrap import init_workspace
    from lendflow.config.settings import load_settings

    report = init_workspace(load_settings())
    if json_output:
        print_json(
            {
                "home": str(report.home),
                "database": report.database_url,
                "revision": report.revision,
                "key_created": report.key_created,
                "home_created": report.home_created,
                "users_seeded": report.users_seeded,
            }
        )
        return
    verb = "created" if report.home_created else "ready"
    typer.echo(
        f"workspace {verb} at {report.home} (database {report.database_url},"
        f" schema {report.revision})"
    )
    if report.users_seeded:
        typer.echo(f"{report.users_seeded} users copied from users.yaml: see lendflow user list")
    if report.key_created:
        typer.echo(f"secret key written to {report.home}/secret.key (mode 600): back it up")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    from lendflow.cli.demo import demo

    app.command("demo")(demo)
