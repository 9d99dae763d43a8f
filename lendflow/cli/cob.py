"""`lendflow cob` and `lendflow serve`: the daily close of business, now or on schedule."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lendflow.cli.common import AsOption, JsonOption, VerboseOption, business_date, parse_date
from lendflow.cli.output import print_json
from lendflow.cli.runs import _user, prepare_flow_run, prepare_prefect

if TYPE_CHECKING:
    from lendflow.close_of_business.results import CobRun

app = typer.Typer(
    help="Close of business: days past due, overdue moves, penalty, notices.", no_args_is_help=True
)


@app.command("run")
def run(
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            help="Date to close (default: yesterday, Asia/Shanghai).",
            parser=parse_date("--as-of"),
            metavar="DATE",
        ),
    ] = None,
    to: Annotated[
        date | None,
        typer.Option(
            "--to",
            help="Close every date up to this one.",
            parser=parse_date("--to"),
            metavar="DATE",
        ),
    ] = None,
    chunk_size: Annotated[
        int | None, typer.Option(help="Loans per task (default: cob.yaml).", min=1, max=100_000)
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Steps and chunking (default: packaged cob.yaml)."),
    ] = None,
    user: AsOption = None,
    json_output: JsonOption = False,
    dask_workers: Annotated[
        int | None,
        typer.Option(
            "--dask-workers",
            help="Close the chunks on a local Dask cluster of this many worker processes.",
        ),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(
            "--dask-address",
            help="Close the chunks on a running Dask scheduler (tcp://host:8786).",
        ),
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Close one business date, or a range; a date already closed changes nothing."""
    from lendflow.access.permissions import Permission

    today = business_date(None)  # the real date: LENDFLOW_TODAY or the system clock
    first = as_of or today - timedelta(days=1)
    last = to or first
    from lendflow.close_of_business.sweep import check_dates

    check_dates(first, last, today)
    from lendflow.config.cob import load_cob_config

    load_cob_config(config)  # a malformed file fails here, in one line, before any run
    name = _user(user)
    from lendflow.cli.common import acting

    with acting(name) as (_, actor):
        actor.require(Permission.RUN_COB, "run close of business")
    prepare_flow_run(verbose=verbose)
    from lendflow.flows import cob as cob_flow
    from lendflow.flows.runtime import batch_run

    runner = cob_flow.task_runner(dask_workers, dask_address)
    with batch_run(), _Progress(not (json_output or verbose)) as progress:
        cob_flow.on_chunk_done = progress
        result = cob_flow.run_close_of_business(
            runner,
            as_of=first,
            to=last,
            actor=name,
            chunk_size=chunk_size,
            today=today,
            config_path=str(config.resolve()) if config else None,
        )
    if json_output:
        print_json(result.model_dump(mode="json"))
        return
    _print_result(result)


class _Progress:
    """A rich progress bar over chunks when a person is watching a terminal."""

    def __init__(self, wanted: bool) -> None:
        self.bar: Any = None
        self.task: Any = None
        self.wanted = wanted and sys.stderr.isatty()

    def __enter__(self) -> Any:
        if not self.wanted:
            return None
        from rich.progress import Progress

        self.bar = Progress(transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task("closing chunks", total=None)
        return self.advance

    def advance(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _print_result(result: CobRun) -> None:
    from lendflow.domain.money import format_grouped

    money = {"penalty_accrued", "written_off_principal"}
    typer.echo(f"closed {result.first} to {result.last} in {result.chunks} chunks")
    for key, value in result.model_dump(exclude={"first", "last", "chunks", "anchor"}).items():
        if key in ("buckets", "classes"):
            continue
        typer.echo(f"  {key.replace('_', ' ')}: {format_grouped(value) if key in money else value}")
    typer.echo("  loans per bucket: " + ", ".join(f"{k} {v}" for k, v in result.buckets.items()))
    typer.echo("  loans per class: " + ", ".join(f"{k} {v}" for k, v in result.classes.items()))
    if result.anchor is not None:
        anchor = result.anchor
        typer.echo(f"  event chain anchored: event {anchor.event_id} {anchor.hash[:16]}…")


@app.command("deploy")
def deploy(
    pool: Annotated[
        str, typer.Option("--pool", help="Prefect work pool (a process pool, made if missing).")
    ],
    lost_after: Annotated[
        int,
        typer.Option(
            "--lost-after",
            help="Seconds without a heartbeat before a run is taken for lost with its worker.",
        ),
    ] = 90,
    user: AsOption = None,
) -> None:
    """Deploy the daily close of business to a work pool of the Prefect server at PREFECT_API_URL.

    Start workers with `prefect worker start --pool NAME --type process` where
    lendflow is installed; a run whose process dies, or that falls silent with
    its worker, is scheduled again.
    """
    import os
    from datetime import timedelta

    from lendflow.access.permissions import Permission
    from lendflow.cli.common import acting
    from lendflow.domain.errors import BadInput

    if not pool.strip():
        raise BadInput("--pool: give the name of a Prefect work pool")
    if not os.environ.get("PREFECT_API_URL"):
        raise BadInput("set PREFECT_API_URL to the Prefect server, e.g. http://127.0.0.1:4200/api")
    with acting(_user(user)) as (_, actor):
        actor.require(Permission.RUN_COB, "deploy close of business")
    prepare_prefect()
    from lendflow.flows.deploy import deploy_close_of_business

    deployment_id = deploy_close_of_business(pool, timedelta(seconds=lost_after))
    typer.echo(f"close of business deployed to work pool {pool} (deployment {deployment_id})")
    typer.echo(f"start workers with: prefect worker start --pool {pool} --type process")


def serve_command(
    limit: Annotated[
        int | None, typer.Option(help="At most this many runs at once.", min=1, max=1000)
    ] = None,
) -> None:
    """Serve the scheduled deployments (close of business daily at 00:30 Asia/Shanghai)."""
    prepare_prefect()
    from lendflow.flows.deploy import serve_all

    serve_all(limit=limit)
