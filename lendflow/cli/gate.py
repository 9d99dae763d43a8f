"""`lendflow gate`: the product committee decides a stage's gate; anyone may look at it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from lendflow.cli.common import (
    AsOption,
    JsonOption,
    OnOption,
    acting,
    business_date,
    parse_code,
    parse_note,
)
from lendflow.cli.output import print_result

app = typer.Typer(
    help="Stage gates: see the criteria, decide go, kill, hold, recycle or resume.",
    no_args_is_help=True,
)


class Decision(StrEnum):
    GO = "go"
    KILL = "kill"
    HOLD = "hold"
    RECYCLE = "recycle"
    RESUME = "resume"


@app.command("decide")
def decide(
    code: Annotated[str, typer.Argument(help="Product code.", parser=parse_code("product code"))],
    stage: Annotated[
        str, typer.Argument(help="The stage whose gate is decided.", parser=parse_code("stage"))
    ],
    decision: Annotated[
        Decision, typer.Option("--decision", help="go, kill, hold, recycle or resume.")
    ],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="For recycle: the earlier stage to go back to.", parser=parse_code("--to")
        ),
    ] = None,
    note: Annotated[
        str, typer.Option("--note", help="Why (a hold needs one).", parser=parse_note("--note"))
    ] = "",
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Decide the gate a stage's successful run waits at (product committee, four eyes)."""
    from lendflow.lifecycle.live_gates import decide as decide_gate

    with acting(user) as (ws, actor):
        result = decide_gate(
            ws, actor, code, stage, decision.value, to=to, note=note, as_of=business_date(on)
        )
    if json_output:
        print_result(result)
        return
    where = f" to {result.to_stage}" if decision is Decision.RECYCLE else ""
    typer.echo(
        f"{code} v{result.version}: {result.decision}{where} at the {stage} gate by"
        f" {result.decided_by} on {result.business_date}; {code} is now {result.state}"
    )
    for retired in result.retired_versions or ():
        typer.echo(f"{code} v{retired} retired: no new applications; its loans run off")
    opened = result.opened_version
    if opened:
        typer.echo(f"{code} v{opened.version} opened in {opened.state}")


@app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="Product code.", parser=parse_code("product code"))],
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """The gate the product waits at, with its automatic criteria passed or failed."""
    from lendflow.lifecycle.live_gates import gate_view

    with acting(user) as (ws, actor):
        view = gate_view(ws, actor, code)
    if json_output:
        print_result(view)
        return
    if view.run is None:
        where = f"in {view.stage}" if view.stage else view.state
        typer.echo(f"{code} v{view.version} is {where}; no run waits at a gate")
        return
    from lendflow.cli.stage import print_criteria

    typer.echo(
        f"{code} v{view.version} ({view.state}) waits at the {view.stage} gate with"
        f" run {view.run} by {view.run_by} on {view.business_date}"
    )
    print_criteria(view.criteria)
