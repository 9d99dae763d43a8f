"""Key safety commands: `key rotate`, `backup`, `restore`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lendflow.cli.common import AsOption, JsonOption, OnOption, acting, business_date, workspace
from lendflow.cli.output import print_json

key_app = typer.Typer(help="The workspace key: rotate it.", no_args_is_help=True)


@key_app.command("rotate")
def rotate(user: AsOption = None, on: OnOption = None, json_output: JsonOption = False) -> None:
    """Move every sealed value and look-up hash to a new key; rerun to finish an interrupted one."""
    from lendflow.customers.keys import rotate_key

    with acting(user) as (ws, actor):
        rotation = rotate_key(ws, actor, business_date(on))
    if json_output:
        print_json(rotation.model_dump(mode="json"))
        return
    finished = "finished an interrupted rotation" if rotation.resumed else "rotated"
    typer.echo(
        f"key {finished}: fingerprint {rotation.old_fingerprint[:16]} ->"
        f" {rotation.new_fingerprint[:16]}; back up the new secret.key"
    )


def backup_command(
    out: Annotated[Path, typer.Option("--out", help="A new, empty folder for the backup.")],
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Copy the database, its key, the users file and the sandbox gateway into a folder."""
    from lendflow.workspace.backup import backup

    with acting(user) as (ws, actor):
        made = backup(ws, actor, out)
    if json_output:
        print_json(made.model_dump(mode="json"))
        return
    typer.echo(
        f"backed up {len(made.files)} files to {made.folder} (schema {made.schema_revision},"
        f" key {made.key_fingerprint[:16]}): it holds the key, keep it safe"
    )


def restore_command(
    folder: Annotated[Path, typer.Argument(help="A folder `lendflow backup` wrote.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the workspace that is there.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Put a backup back, checked against its manifest before and audited after."""
    from lendflow.access.permissions import SYSTEM
    from lendflow.config.settings import load_settings
    from lendflow.loans.audit import verify
    from lendflow.workspace.backup import restore

    settings = load_settings()
    restored = restore(settings, folder, force=force)
    with workspace() as ws:
        report = verify(ws, SYSTEM)
    if json_output:
        print_json({**restored.model_dump(mode="json"), "audit": report.as_dict()})
    elif report.ok:
        typer.echo(
            f"restored {settings.home} from {folder} (key {restored.key_fingerprint[:16]});"
            f" audit OK: {report.entries_checked} journal entries, {report.events_checked} events"
        )
    else:
        for problem in report.problems:
            typer.echo(problem)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(key_app, name="key")
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
