"""Key safety commands: `key rotate`, `backup`, `restore`."""

from __future__ import annotations

import typer

from lendflow.cli.common import AsOption, JsonOption, acting
from lendflow.cli.output import print_json

key_app = typer.Typer(help="The workspace key: rotate it.", no_args_is_help=True)


@key_app.command("rotate")
def rotate(user: AsOption = None, json_output: JsonOption = False) -> None:
    """Move every sealed value and look-up hash to a new key; rerun to finish an interrupted one."""
    from lendflow.customers.keys import rotate_key

    with acting(user) as (ws, actor):
        rotation = rotate_key(ws, actor)
    if json_output:
        print_json(rotation.model_dump(mode="json"))
        return
    finished = "finished an interrupted rotation" if rotation.resumed else "rotated"
    typer.echo(
        f"key {finished}: fingerprint {rotation.old_fingerprint[:16]} ->"
        f" {rotation.new_fingerprint[:16]}; back up the new secret.key"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(key_app, name="key")
