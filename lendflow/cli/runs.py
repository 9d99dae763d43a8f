"""`lendflow run`: the batch flows, run through Prefect: in the workspace's server when
it is up (`flows.served_runs`), else in the command's own process."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lendflow.cli.common import AsOption, JsonOption, OnOption, VerboseOption, business_date
from lendflow.cli.output import print_json

if TYPE_CHECKING:
    from lendflow.config.settings import Settings
    from lendflow.flows.servers import ServerRecord

app = typer.Typer(
    help="Run batch flows: review the queue, pay out, post repayment files.", no_args_is_help=True
)

ChunkOption = Annotated[int, typer.Option(help="Loans per task.", min=1, max=100_000)]


def prepare_prefect() -> None:
    """Keep Prefect's local state in the workspace and its chatter down.

    Set before prefect is imported: its settings are read at import.
    """
    from lendflow.config.settings import load_settings
    from lendflow.flows.environment import prepare_prefect as prepare

    home = load_settings().home.resolve()
    prepare(home)
    os.environ["LENDFLOW_HOME"] = str(home)


def prepare_flow_run(*, verbose: bool = False) -> str:
    """Before a command's flows (and prefect) load: report them to the workspace's
    Prefect server when it is up, else start a temporary one now, while the command does
    its own work; Prefect's own lines reach the terminal only when `verbose`. Says where
    the flows report (`servers.connect`)."""
    from lendflow.cli.exiting import end_without_teardown
    from lendflow.config.settings import load_settings
    from lendflow.flows.servers import connect

    home = load_settings().home.resolve()
    os.environ["LENDFLOW_HOME"] = str(home)
    end_without_teardown()  # before the server's exit hook, so it runs after it
    where = connect(home, verbose=verbose)
    if verbose:
        url = os.environ.get("PREFECT_API_URL") or "its own"
        typer.echo(f"Prefect: {_WHERE.get(where, where)} ({url})", err=True)
    return where


_WHERE = {
    "given": "the server PREFECT_API_URL names",
    "workspace": "the workspace's server (lendflow server start)",
    "temporary": "a temporary server for this command",
    "as imported": "as already loaded in this process",
}


def _user(user: str | None) -> str:
    from lendflow.config.settings import load_settings
    from lendflow.domain.errors import BadInput

    name = user or load_settings().user
    if not name:
        raise BadInput("who is acting? give --as USER or set LENDFLOW_USER")
    return name


def _report(result: dict[str, Any], json_output: bool) -> None:
    if json_output:
        print_json(result)
        return
    for key, value in result.items():
        if isinstance(value, list):
            for line in value:
                typer.echo(f"{key}: {line}")
        else:
            typer.echo(f"{key}: {value}")


def _require(flow_name: str, user: str) -> None:
    """Refuse a user without the flow's permission in one line, before Prefect starts (the
    flow checks again, for runs that do not come through here)."""
    from lendflow.cli.common import acting
    from lendflow.flows.permissions import BATCH_PERMISSIONS

    with acting(user) as (_, actor):
        actor.require(*BATCH_PERMISSIONS[flow_name])


def serving_server(verbose: bool, settings: Settings | None = None) -> ServerRecord | None:
    """The workspace's server when it is up and takes runs itself (`flows.served_runs`),
    so the command need not load Prefect at all; never with `--verbose` (Prefect's lines
    are then wanted here), when the environment names another Prefect server, which the
    flows must report to, or when this command's settings are not the server's."""
    if verbose or os.environ.get("PREFECT_API_URL"):
        return None
    from lendflow.config.settings import load_settings
    from lendflow.flows.servers import serving_server as recorded
    from lendflow.flows.servers import settings_fingerprint

    settings = settings or load_settings()
    return recorded(settings.home.resolve(), settings_fingerprint(settings))


def _run(flow_name: str, as_of: date, user: str, chunk_size: int, *, json_output: bool,
         verbose: bool) -> dict[str, Any]:  # fmt: skip
    """Run one of the batch loan flows and print its counts."""
    asked = {"as_of": as_of.isoformat(), "user": user, "chunk_size": chunk_size}

    def here(loans: Any) -> dict[str, Any]:
        return dict(getattr(loans, flow_name)(as_of, user, chunk_size))

    label = flow_name.replace("_", " ")
    result = _flow_run(flow_name, user, asked, here, label, json_output, verbose)
    _report(result, json_output)
    return result


def _flow_run(
    flow_name: str,
    user: str,
    asked: dict[str, Any],
    here: Callable[[Any], dict[str, Any]],
    label: str,
    json_output: bool,
    verbose: bool,
) -> dict[str, Any]:
    """A batch loan flow's result: from the workspace's server when it takes the run
    (`asked`, its arguments as JSON), else from `here(flows.loans)` in this process, once
    the user's right is checked, without heartbeats (`batch_run`)."""
    from lendflow.cli.progress import working

    server = serving_server(verbose)
    if server is not None:
        from lendflow.flows.servers import served_run

        with working(label, enabled=not json_output):
            return served_run(server, flow_name, asked)
    _require(flow_name, user)
    prepare_flow_run(verbose=verbose)
    from lendflow.flows import loans
    from lendflow.flows.runtime import batch_run

    with working(label, enabled=not (json_output or verbose)), batch_run():
        return here(loans)


@app.command("review-applications")
def review_applications(
    chunk_size: ChunkOption = 1000,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Move every submitted application into review."""
    _run(
        "review_applications", business_date(on), _user(user), chunk_size,
        json_output=json_output, verbose=verbose,
    )  # fmt: skip


@app.command("disburse-approved")
def disburse_approved(
    chunk_size: ChunkOption = 1000,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Pay out every approved loan (transient gateway errors are retried)."""
    result = _run(
        "disburse_approved", business_date(on), _user(user), chunk_size,
        json_output=json_output, verbose=verbose,
    )  # fmt: skip
    if result["failures"]:
        raise typer.Exit(1)


@app.command("post-repayments")
def post_repayments(
    file: Annotated[
        Path,
        typer.Argument(
            help="UTF-8 CSV with header reference,loan_id,amount,paid_on"
            " (or channel,reference,loan_id,amount,paid_on)."
        ),
    ],
    channel: Annotated[
        str | None,
        typer.Option(help="The payment channel the file comes from; references are its own."),
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option(help="Where to write every row not posted (default: FILE.errors.csv)."),
    ] = None,
    max_rows: Annotated[int, typer.Option(help="Refuse a file with more rows.", min=1)] = 1_000_000,
    max_mb: Annotated[int, typer.Option(help="Refuse a bigger file (megabytes).", min=1)] = 64,
    chunk_size: ChunkOption = 1000,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Post a payment channel's repayment file; every row not posted is reported.

    Exit 0: every row is posted (now or before); 1: some rows were refused; 2: none posted.
    """
    from lendflow.loans.repayment_files import (
        FileLimits,
        check_channel,
        check_errors_path,
        inspect_repayment_file,
    )

    limits = FileLimits(max_rows=max_rows, max_bytes=max_mb * 1024 * 1024)
    # A file that is not a repayment file at all fails here, in one line, before any flow.
    inspect_repayment_file(file, chunk_size, limits)
    check_errors_path(file, errors)
    arguments = (file, _user(user), business_date(on), chunk_size, check_channel(channel), errors)
    asked = {
        # the server's working folder is not this command's: files by their whole path
        "file": str(file.resolve()),
        "user": arguments[1],
        "as_of": arguments[2].isoformat(),
        "chunk_size": chunk_size,
        "channel": arguments[4],
        "errors": str(errors.resolve()) if errors is not None else None,
        "max_rows": max_rows,
        "max_bytes": limits.max_bytes,
    }

    def here(loans: Any) -> dict[str, Any]:
        return dict(loans.post_repayments(*arguments, max_rows, limits.max_bytes))

    result = _flow_run(
        "post_repayments", arguments[1], asked, here, "posting repayments", json_output, verbose
    )
    if json_output:
        print_json(result)
    else:
        _summarise_file(result)
    if result["exit_code"]:
        raise typer.Exit(result["exit_code"])


def _summarise_file(result: dict[str, Any]) -> None:
    typer.echo(
        f"posted {result['posted']}, refused {result['refused']},"
        f" duplicates {result['duplicates']}, total amount posted {result['amount_posted']}"
    )
    for problem in result["first_problems"]:
        typer.echo(f"  {problem}")
    if result["refused"] > len(result["first_problems"]):
        typer.echo(f"  … and {result['refused'] - len(result['first_problems'])} more")
    if result["refused"]:
        typer.echo(f"every row not posted: {result['errors_file']}")
