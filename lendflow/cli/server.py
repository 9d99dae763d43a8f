"""`lendflow server`: keep a Prefect server up for the workspace, so flows start at once.

Every command that runs flows (stage run, run …, cob run, demo) reports to this server
while it answers, instead of starting a temporary one of its own (a few seconds each
time). Its state stays under the workspace's PREFECT_HOME, so the runs it has seen stay
after it stops.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lendflow.cli.common import JsonOption
from lendflow.cli.output import print_json

if TYPE_CHECKING:
    from lendflow.flows.servers import ServerRecord

app = typer.Typer(
    help="A Prefect server for the workspace: start, stop, status.", no_args_is_help=True
)

DEFAULT_PORT = 4200


def _home() -> Path:
    from lendflow.config.settings import load_settings

    return load_settings().home.resolve()


@app.command("start")
def start(
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 to serve on.", min=1024, max=65535)
    ] = DEFAULT_PORT,
    json_output: JsonOption = False,
) -> None:
    """Start a Prefect server for the workspace in the background; flows use it while it
    is up. Waits until it answers (a first start prepares its database: seconds)."""
    from lendflow.cli.progress import working
    from lendflow.config.settings import load_settings
    from lendflow.flows.servers import settings_fingerprint, start_server
    from lendflow.workspace.presence import require_workspace

    settings = load_settings()
    require_workspace(settings)  # never a server, nor its folder, where there is no workspace
    home = settings.home.resolve()
    with working("starting the Prefect server", enabled=not json_output):
        record = start_server(home, port, settings_fingerprint(settings))
    if json_output:
        print_json({"running": True, "url": record.url, "pid": record.pid, "log": record.log})
        return
    typer.echo(f"Prefect server up at {record.url} (pid {record.pid}), its UI at {_ui(record.url)}")
    typer.echo(f"flows of this workspace report to it while it is up; log: {record.log}")
    typer.echo("stop it with: lendflow server stop")


def _ui(api_url: str) -> str:
    return api_url.removesuffix("/api")


@app.command("stop")
def stop(json_output: JsonOption = False) -> None:
    """Stop the workspace's Prefect server; flows start a temporary one again."""
    from lendflow.flows.servers import stop_server

    status = stop_server(_home())
    if json_output:
        print_json({**status.as_dict(), "stopped": status.record is not None})
        return
    if status.record is not None:
        typer.echo(f"stopped the Prefect server at {status.record.url} (pid {status.record.pid})")
        return
    typer.echo("no Prefect server is running for this workspace" + _stale(status.stale))


@app.command("status")
def status(json_output: JsonOption = False) -> None:
    """Whether the workspace's Prefect server is up, and where."""
    from lendflow.flows.servers import server_status

    found = server_status(_home())
    if json_output:
        print_json(found.as_dict())
        return
    record = found.record
    if record is None:
        typer.echo(
            "no Prefect server is running for this workspace" + _stale(found.stale)
            + "; flows start a temporary one (lendflow server start keeps one up)"
        )  # fmt: skip
    elif found.state == "up":
        typer.echo(
            f"Prefect server up at {record.url} (pid {record.pid}, since {record.started});"
            f" UI {_ui(record.url)}"
        )
    else:
        typer.echo(
            f"Prefect server pid {record.pid} is not answering at {record.url}"
            " (starting, or hung: lendflow server stop)"
        )


def _stale(stale: ServerRecord | None) -> str:
    """A record removed on the way: said, so nobody wonders where it went."""
    return f" (removed the record of pid {stale.pid}, which had stopped)" if stale else ""
