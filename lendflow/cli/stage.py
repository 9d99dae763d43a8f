"""`lendflow stage`: run a lifecycle stage's flow, list its runs, save its report.

The flow is imported only by `stage run`, after every check that can refuse
the run without it (the user's right, the stage's order, the input files), so a
refusal comes back at once and plain commands never load Prefect. Without a Prefect
server for the workspace, `stage run` starts a temporary one as soon as the input files
are read, so that it boots while those checks run. With the workspace's server up, the
server runs the stage itself (`flows.served_runs`) and this command loads no Prefect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lendflow.cli.common import (
    AsOption,
    JsonOption,
    OnOption,
    VerboseOption,
    acting,
    business_date,
    parse_code,
    parse_id,
    write_file,
)
from lendflow.cli.output import console, print_json, print_result

if TYPE_CHECKING:
    from lendflow.flows.servers import ServerRecord
    from lendflow.lifecycle.results import GateCriterion, ProductPipeline

app = typer.Typer(
    help="Product lifecycle stages: run one, list its runs, save its report.",
    no_args_is_help=True,
)

CodeArgument = Annotated[
    str, typer.Argument(help="Product code.", parser=parse_code("product code"))
]
StageArgument = Annotated[
    str,
    typer.Argument(
        help="Stage: charter, research, design, build_test, launch, operate, improve.",
        parser=parse_code("stage"),
    ),
]


def _inputs(pairs: list[str]) -> dict[str, Path]:
    from lendflow.domain.errors import BadInput

    given: dict[str, Path] = {}
    for pair in pairs:
        name, sep, file = pair.partition("=")
        if not sep or not name.strip() or not file.strip():
            raise BadInput(f"--input must be NAME=FILE, got {pair!r}")
        if name.strip() in given:
            raise BadInput(f"--input {name.strip()} is given twice")
        given[name.strip()] = Path(file.strip())
    return given


@app.command("run")
def run(
    code: CodeArgument,
    stage: StageArgument,
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", help="NAME=FILE for one input of the stage (repeatable)."),
    ] = None,
    samples: Annotated[
        bool, typer.Option("--samples", help="Take every input not given from the samples.")
    ] = False,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Run a stage's flow; a successful run waits at the stage's gate."""
    from lendflow.cli.runs import _user

    as_of = business_date(on)
    given = _inputs(inputs or [])
    name = _user(user)
    server = _server_for(stage, verbose)  # without one, a temporary server boots from now
    from lendflow.cli.progress import working
    from lendflow.lifecycle.catalog import stage as stage_of
    from lendflow.lifecycle.inputs import capture_inputs

    captured = capture_inputs(stage_of(stage), given, use_samples=samples)
    served = server is not None
    run_stage = _served(server) if server is not None else _here(code, stage, name, verbose)
    from_samples = [c for c in captured if c.from_samples]
    said = ""
    if from_samples and not json_output:
        said = "inputs from the shipped samples: " + ", ".join(
            f"{c.name} ({c.file})" for c in from_samples
        )
    if said and not served:
        typer.echo(said)
    arguments = {"code": code, "stage": stage, "user": name, "as_of": as_of, "samples": samples}
    with working(f"running the {stage} stage", enabled=not (json_output or verbose)):
        result = run_stage({**arguments, "inputs": given})
    if said and served:  # said as a run here says it, once the server has taken the run
        typer.echo(said)
    if json_output:
        print_json(result)
        return
    _print_run(result)


StageRunner = Callable[[dict[str, Any]], dict[str, Any]]


def _server_for(stage: str, verbose: bool) -> ServerRecord | None:
    """The workspace's server, if it runs the stage (`flows.served_runs`): when it is up,
    and neither `--verbose` nor a `PREFECT_API_URL` is given; the command then loads no
    Prefect at all. Without it the flow runs here (`_here`), reporting where
    `prepare_flow_run` says: to a temporary server started now, first thing, as its boot
    is most of such a run; it boots while the command reads the inputs, checks the run
    and loads Prefect. Handing the run to that server too was slower (9.1 s against 8.0 s
    on a slow day): its first run loads the flows in the process still booting, and the
    flow and the API it calls then share one process, where they had a core each.
    """
    from lendflow.cli.runs import prepare_flow_run, serving_server
    from lendflow.config.settings import load_settings
    from lendflow.domain.errors import Refused
    from lendflow.flows.stages import STAGE_FLOWS
    from lendflow.workspace.presence import require_workspace

    if stage not in STAGE_FLOWS:
        raise Refused(f"stage {stage} has no flow in this installation yet")
    settings = load_settings()
    require_workspace(settings)  # before any server starts, or its folder is made
    workspace_server = serving_server(verbose, settings)
    if workspace_server is None:
        prepare_flow_run(verbose=verbose)  # before prefect loads: it reads where to report
    return workspace_server


def _served(server: ServerRecord) -> StageRunner:
    """Hand the run to the workspace's server."""

    def run(arguments: dict[str, Any]) -> dict[str, Any]:
        from lendflow.flows.servers import served_run

        # the server's working folder is not this command's: files by their whole path
        paths = {k: str(v.resolve()) for k, v in arguments["inputs"].items()}
        asked = {**arguments, "as_of": arguments["as_of"].isoformat(), "inputs": paths}
        return served_run(server, "stage", asked)

    return run


def _here(code: str, stage: str, user: str, verbose: bool) -> StageRunner:
    """The stage's flow, run in this process (`flows.stages.run_stage_flow`), once the
    run is checked as the flow will check it (`check_runnable`)."""
    from lendflow.lifecycle.live_stages import check_runnable

    with acting(user) as (ws, actor):
        check_runnable(ws, actor, code, stage)
    if not verbose:
        _quiet_prefect_failures()

    def run(arguments: dict[str, Any]) -> dict[str, Any]:
        from lendflow.flows.stages import run_stage_flow

        return run_stage_flow(
            stage,
            code=arguments["code"],
            user=arguments["user"],
            as_of=arguments["as_of"],
            inputs={k: str(v) for k, v in arguments["inputs"].items()},
            samples=arguments["samples"],
        )

    return run


def _quiet_prefect_failures() -> None:
    """A failed step is reported once, as lendflow's one-line error; not again as a traceback."""
    import logging

    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _print_run(result: dict[str, Any]) -> None:
    typer.echo(
        f"{result['stage']} run {result['run']} of {result['code']} v{result['version']}"
        f" succeeded; {result['code']} is {result['state']}, waiting at the"
        f" {result['stage']} gate"
    )
    from lendflow.lifecycle.results import GateCriterion

    print_criteria([GateCriterion.model_validate(c) for c in result["criteria"]])
    typer.echo(
        f"report: {result['report_bytes']:,} bytes of {result['report_format']}"
        f" with {result['charts']} charts"
        f" (lendflow stage report {result['code']} {result['stage']} --out FILE)"
    )


def print_criteria(criteria: Sequence[GateCriterion]) -> None:
    """Gate criteria one a line: pass/FAIL, name, figure."""
    passed = sum(1 for c in criteria if c.passed)
    typer.echo(f"gate criteria: {passed} of {len(criteria)} passed")
    for c in criteria:
        typer.echo(f"  {'pass' if c.passed else 'FAIL'}  {c.name}: {c.figure}")
    if passed < len(criteria):
        typer.echo("  the gate cannot go: recycle, hold or kill, or run the stage again")


@app.command("show")
def show(
    code: CodeArgument,
    stage: StageArgument,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Every run of a stage for the product's newest version: inputs, status, criteria, error."""
    from lendflow.lifecycle.live_stages import stage_history

    with acting(user) as (ws, actor):
        history = stage_history(ws, actor, code, stage)
    if json_output:
        print_result(history)
        return
    from rich.table import Table

    table = Table(title=f"{stage} runs of {code} v{history.version} ({history.state})")
    for column in ("run", "status", "run by", "date", "inputs", "criteria", "error"):
        table.add_column(column)
    for run in history.runs:
        criteria = run.criteria
        table.add_row(
            str(run.run),
            run.status + (" (at gate)" if run.run == history.at_gate else ""),
            run.run_by,
            run.business_date.isoformat(),
            ", ".join(f"{i.name} {i.sha256[:12]}" for i in run.inputs),
            f"{sum(c.passed for c in criteria)}/{len(criteria)}" if criteria else "",
            run.error or "",
        )
    console.print(table)


@app.command("report")
def report(
    code: CodeArgument,
    stage: StageArgument,
    out: Annotated[Path, typer.Option("--out", help="File to write the report to.")],
    run_id: Annotated[
        int | None,
        typer.Option(
            "--run",
            help="Run number (default: the newest with a report).",
            parser=parse_id("--run"),
        ),
    ] = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write a run's stored report (HTML with its charts) to a file."""
    from lendflow.lifecycle.live_stages import stored_report

    with acting(user) as (ws, actor):
        view, data = stored_report(ws, actor, code, stage, run_id)
    write_file(out, data)
    if json_output:
        print_json({"run": view.run, "file": str(out), "bytes": len(data)})
    else:
        typer.echo(f"wrote {out} ({len(data):,} bytes of {view.report_format}, run {view.run})")


@app.command("education")
def education(
    code: CodeArgument,
    out: Annotated[Path, typer.Option("--out", help="File to write the material to.")],
    locale: Annotated[
        str, typer.Option("--locale", help="zh-CN or en.", parser=parse_code("--locale"))
    ] = "zh-CN",
    fmt: Annotated[
        str, typer.Option("--format", help="md or html.", parser=parse_code("--format"))
    ] = "html",
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write the customer education material of the product's newest launch run."""
    from lendflow.lifecycle.stages.launch.stage import education_material

    with acting(user) as (ws, actor):
        run_id, data = education_material(ws, actor, code, locale, fmt)
    write_file(out, data)
    if json_output:
        print_json({"run": run_id, "file": str(out), "bytes": len(data)})
    else:
        typer.echo(f"wrote {out} ({len(data):,} bytes of {fmt}, launch run {run_id})")


def print_pipeline(view: ProductPipeline) -> None:
    """A product version's way through the stages, then its gate decisions."""
    from rich.table import Table

    title = f"{view.name} ({view.code} v{view.version}) — {view.state}"
    table = Table(title=title)
    for column in ("#", "stage", "阶段", "status", "runs", "last run", "gate decision"):
        table.add_column(column)
    for row in view.stages:
        last, decided = row.last_run, row.last_decision
        table.add_row(
            str(row.number),
            row.stage,
            row.name_zh,
            row.status,
            str(row.runs),
            ""
            if last is None
            else f"{last.run} {last.status} by {last.run_by} on {last.business_date}",
            ""
            if decided is None
            else f"{decided.decision} by {decided.decided_by} on {decided.business_date}",
        )
    console.print(table)
    if view.decisions:
        decisions = Table(title="gate decisions")
        for column in ("date", "stage", "decision", "from", "to", "by", "run", "note"):
            decisions.add_column(column)
        for d in view.decisions:
            decisions.add_row(
                d.business_date.isoformat(),
                d.stage,
                d.decision,
                str(d.from_state),
                str(d.to_state),
                d.decided_by,
                str(d.run),
                d.note,
            )
        console.print(decisions)
