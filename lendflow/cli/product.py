"""`lendflow product`: check product specs against the schema and the policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lendflow.cli.output import print_json
from lendflow.domain.errors import Problems

app = typer.Typer(
    help="Product specs: check them against the schema and the policy.", no_args_is_help=True
)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="Product spec YAML.")],
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy YAML (default: the packaged one).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print every problem in a product spec (file, field path, message) or OK.

    Checks the schema, then the policy: the highest APR any loan of the product
    can reach, fees included, must not exceed the cap.
    """
    from lendflow.services.products import check_product_file

    report = check_product_file(file, policy_file)
    if json_output:
        print_json(report.as_dict())
    elif report.ok:
        typer.echo(
            f"OK: {report.code} — highest APR {report.highest_apr}% within the cap {report.cap}"
        )
    else:
        for problem in report.problems:
            typer.echo(problem)
    if not report.ok:
        raise typer.Exit(Problems.exit_code)
