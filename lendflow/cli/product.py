"""`lendflow product`: create products, follow them through the lifecycle, check specs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lendflow.cli.common import (
    AsOption,
    JsonOption,
    OnOption,
    acting,
    business_date,
    parse_code,
    parse_id,
    parse_line,
    write_file,
)
from lendflow.cli.output import print_json, print_result
from lendflow.domain.errors import Problems

CodeArgument = Annotated[
    str, typer.Argument(help="Product code.", parser=parse_code("product code"))
]
VersionOption = Annotated[
    int | None,
    typer.Option(
        "--version", help="Version number (default: the newest).", parser=parse_id("--version")
    ),
]

app = typer.Typer(
    help="Products: create, list, show the pipeline, versions and diffs; check specs.",
    no_args_is_help=True,
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
    from lendflow.products.catalogue import check_product_file

    report = check_product_file(file, policy_file)
    if json_output:
        print_json(report.model_dump(mode="json"))
    elif report.ok:
        typer.echo(
            f"OK: {report.code} — highest APR {report.highest_apr}% within the cap {report.cap}"
        )
    else:
        for problem in report.problems:
            typer.echo(problem)
    if not report.ok:
        raise typer.Exit(Problems.exit_code)


# --- The product lifecycle: drafts, the stage pipeline, versions ---------------------------


@app.command("create")
def create(
    code: Annotated[
        str, typer.Argument(help="Product code, e.g. anxin.", parser=parse_code("product code"))
    ],
    name: Annotated[str, typer.Option("--name", help="Product name.", parser=parse_line("--name"))],
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Create a product as a draft; its first stage is the charter."""
    from lendflow.lifecycle.products import create_product

    with acting(user) as (ws, actor):
        view = create_product(ws, actor, code, name, business_date(on))
    if json_output:
        print_result(view)
    else:
        typer.echo(f"product {view.code} version {view.version} is a draft")


@app.command("list")
def list_products(user: AsOption = None, json_output: JsonOption = False) -> None:
    """Every product, its newest version and where that version stands."""
    from lendflow.lifecycle.products import list_products as listed

    with acting(user) as (ws, actor):
        rows = listed(ws, actor)
    if json_output:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    from lendflow.cli.tables import print_rows

    columns = ["code", "name", "versions", "latest_version", "state", "live_version"]
    print_rows("products", [{c: getattr(row, c) for c in columns} for row in rows], columns)


@app.command("show")
def show(
    code: CodeArgument,
    version: VersionOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """The pipeline: each stage's status, runs and gate decisions, who and when."""
    from lendflow.lifecycle.products import product_pipeline

    with acting(user) as (ws, actor):
        view = product_pipeline(ws, actor, code, version)
    if json_output:
        print_result(view)
        return
    from lendflow.cli.stage import print_pipeline

    print_pipeline(view)


@app.command("versions")
def versions(
    code: CodeArgument,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Every version of a product: state, spec SHA-256, amounts and rate."""
    from lendflow.lifecycle.products import product_versions_view

    with acting(user) as (ws, actor):
        view = product_versions_view(ws, actor, code)
    if json_output:
        print_result(view)
        return
    from lendflow.cli.tables import print_rows
    from lendflow.domain.money import format_grouped

    rows = [
        {
            "version": v.version,
            "state": v.state,
            "sha256": (v.sha256 or "")[:12],
            "amounts": ""
            if v.min_amount is None or v.max_amount is None
            else f"{format_grouped(v.min_amount)} – {format_grouped(v.max_amount)}",
            "annual_rate": v.annual_rate or "",
            "created_by": v.created_by,
            "created_at": v.created_at.isoformat(),
        }
        for v in view.versions
    ]
    columns = ["version", "state", "sha256", "amounts", "annual_rate", "created_by", "created_at"]
    print_rows(f"versions of {code}", rows, columns)


@app.command("spec")
def spec(
    code: CodeArgument,
    version: Annotated[
        int, typer.Option("--version", help="Version number.", parser=parse_id("--version"))
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write the spec to (default: print it).")
    ] = None,
    user: AsOption = None,
) -> None:
    """A version's spec; for a version an improvement opened, the spec it proposed (the
    input its design run checks: --input spec=FILE)."""
    from lendflow.lifecycle.stages.improve.stage import version_spec

    with acting(user) as (ws, actor):
        text, source = version_spec(ws, actor, code, version)
    if out is None:
        typer.echo(text, nl=False)
        return
    write_file(out, text.encode("utf-8"))
    typer.echo(f"wrote {out}: {source}")


@app.command("diff")
def diff(
    code: CodeArgument,
    older: Annotated[
        int, typer.Argument(help="Version to compare from.", parser=parse_id("older version"))
    ],
    newer: Annotated[
        int, typer.Argument(help="Version to compare to.", parser=parse_id("newer version"))
    ],
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """What changed in the spec between two versions."""
    from lendflow.lifecycle.products import diff_versions

    with acting(user) as (ws, actor):
        view = diff_versions(ws, actor, code, older, newer)
    if json_output:
        print_result(view)
        return
    if not view.changes:
        typer.echo(f"{code}: versions {older} and {newer} have the same spec")
        return
    for line in view.diff:
        typer.echo(line)
