"""Risk desk commands: the review queue, scorecards, the challenger report, the blocklist."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lendflow.cli.common import (
    AsOption,
    JsonOption,
    OnOption,
    ProductOption,
    acting,
    business_date,
    parse_code,
    parse_date,
    parse_note,
    workspace,
)
from lendflow.cli.output import print_json

if TYPE_CHECKING:
    from lendflow.credit.results import CreditModelView

queue_app = typer.Typer(help="Applications waiting for a risk officer.", no_args_is_help=True)
scorecard_app = typer.Typer(help="Scorecards and decision tables.", no_args_is_help=True)
decisions_app = typer.Typer(help="Stored credit decisions.", no_args_is_help=True)
blocklist_app = typer.Typer(help="People the lender will not lend to.", no_args_is_help=True)
related_app = typer.Typer(
    help="Groups of related parties, whose loans count together against concentration.",
    no_args_is_help=True,
)
GroupArgument = Annotated[
    str, typer.Argument(help="The group's code, e.g. ZHANG-FAMILY.", parser=parse_code("GROUP"))
]


@queue_app.command("list")
def queue_list(
    product: ProductOption = None,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=10_000)] = 200,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Referred applications, oldest first, with score, grade and reasons.

    Decide each with `lendflow loan approve ID --note ...` or `loan reject ID --reason ... --note`.
    """
    from lendflow.credit.desk import review_queue

    with acting(user) as (ws, actor):
        queued = review_queue(ws, actor, business_date(on), product, limit)
    rows = [q.model_dump(mode="json") for q in queued.items]
    if json_output:
        print_json(rows)
        return
    from lendflow.cli.tables import print_rows

    shown = [{**r, "reasons": ", ".join(r["reasons"])} for r in rows]
    print_rows(
        "Manual review queue",
        shown,
        ["id", "product", "requested", "proposed", "term", "score", "risk_grade", "annual_rate",
         "reasons", "waiting_days"],
    )  # fmt: skip


@scorecard_app.command("show")
def scorecard_show(
    code: Annotated[
        str,
        typer.Argument(help="Scorecard or decision table code.", parser=parse_code("code")),
    ],
    json_output: JsonOption = False,
) -> None:
    """Every characteristic's bins and points, or every rule of a decision table."""
    from lendflow.credit.desk import scorecard_view

    with workspace() as ws:
        view = scorecard_view(ws, code)
    _print_model(view, json_output)


@scorecard_app.command("check")
def scorecard_check(
    path: Annotated[Path, typer.Argument(help="A scorecard or decision table YAML file.")],
    json_output: JsonOption = False,
) -> None:
    """Validate a file: every problem is listed as file: path: message."""
    from lendflow.credit.desk import check_model_file

    _print_model(check_model_file(path), json_output)


def _print_model(model: CreditModelView, json_output: bool) -> None:
    view = model.model_dump(mode="json")
    if json_output:
        print_json(view)
        return
    from lendflow.cli.tables import print_rows

    title = f"{view['kind']} {view['code']} v{view['version']}"
    if view["kind"] == "scorecard":
        rows = [
            {"characteristic": c["name"], "bin": b["bin"], "points": b["points"]}
            for c in view["characteristics"]
            for b in c["bins"]
        ]
        print_rows(title, rows, ["characteristic", "bin", "points"])
        low, high = view["score_range"]
        typer.echo(f"scores from {low} to {high}; {view['scaling']}")
        return
    rows = [
        {**r, "when": ", ".join(f"{k} {v}" for k, v in r["when"].items()) or "(any)",
         "reasons": ", ".join(r["reasons"])}
        for r in view["rules"]
    ]  # fmt: skip
    print_rows(f"{title} (hit policy {view['hit_policy']})", rows,
               ["rule", "when", "outcome", "grade", "max_amount", "reasons"])  # fmt: skip


@decisions_app.command("compare")
def decisions_compare(
    product: ProductOption = None,
    since: Annotated[
        date | None,
        typer.Option(
            "--from", help="Decided on or after.", parser=parse_date("--from"), metavar="DATE"
        ),
    ] = None,
    until: Annotated[
        date | None,
        typer.Option(
            "--to", help="Decided on or before.", parser=parse_date("--to"), metavar="DATE"
        ),
    ] = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Champion against challenger scorecard over the stored decisions."""
    from lendflow.credit.desk import compare_challenger

    with acting(user) as (ws, actor):
        report = compare_challenger(
            ws,
            actor,
            product=product,
            since=since,
            until=until,
        )
    shown = report.model_dump(mode="json")
    if json_output:
        print_json(shown)
        return
    typer.echo(
        f"champion {report.champion} vs challenger {report.challenger}:"
        f" {report.compared} applications, agreement {report.agreement}"
    )
    for key in ("outcomes", "approval_rate", "mean_score", "both_approve", "champion_only",
                "challenger_only"):  # fmt: skip
        typer.echo(f"  {key}: {shown[key]}")


@blocklist_app.command("add")
def blocklist_add(
    national_id: Annotated[
        str,
        typer.Option(
            "--national-id", help="The person's ID number.", parser=parse_code("--national-id")
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(help="Reason code, e.g. FRAUD_CONFIRMED.", parser=parse_code("--reason")),
    ],
    note: Annotated[
        str | None, typer.Option(help="Why, for the record.", parser=parse_note("--note"))
    ] = None,
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Decline every future application from this person."""
    from lendflow.credit.desk import block

    with acting(user) as (ws, actor):
        entry = block(ws, actor, national_id, reason, note, business_date(on))
    if json_output:
        print_json(entry.model_dump(mode="json"))
        return
    typer.echo(f"blocked ({entry.reason})")


@blocklist_app.command("list")
def blocklist_list(user: AsOption = None, json_output: JsonOption = False) -> None:
    """Blocked people by reason and date (identities stay hashed)."""
    from lendflow.credit.desk import blocklist_entries

    with acting(user) as (ws, actor):
        entries = blocklist_entries(ws, actor)
    rows = [e.model_dump(mode="json") for e in entries]
    if json_output:
        print_json(rows)
        return
    from lendflow.cli.tables import print_rows

    print_rows("Blocklist", rows, ["id_hash", "reason", "added_by", "added_on", "note"])


@related_app.command("add")
def related_add(
    group: GroupArgument,
    national_id: Annotated[
        str,
        typer.Option(
            "--national-id", help="The person's ID number.", parser=parse_code("--national-id")
        ),
    ],
    on: OnOption = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Put a person in a group of related parties (a borrower with their related parties
    may owe at most the policy's share of net assets)."""
    from lendflow.customers.related import relate

    with acting(user) as (ws, actor):
        added = relate(ws, actor, group, national_id, business_date(on))
    if json_output:
        print_json(added.model_dump(mode="json"))
        return
    typer.echo(f"{added.national_id} added to related-party group {added.group}")


@related_app.command("list")
def related_list(
    group: GroupArgument, user: AsOption = None, json_output: JsonOption = False
) -> None:
    """A group's members (national IDs masked unless your role may see them)."""
    from lendflow.customers.related import group_members

    with acting(user) as (ws, actor):
        found = group_members(ws, actor, group)
    rows = [m.model_dump(mode="json") for m in found]
    if json_output:
        print_json(rows)
        return
    from lendflow.cli.tables import print_rows

    print_rows(f"Related parties: {group}", rows, ["national_id", "added_by", "added_on"])
