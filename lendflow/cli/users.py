"""Users and API tokens: `user add/list/disable/password`, `token create/list/revoke`.

Admin-only (the use cases check `MANAGE_USERS`). The moment a user or a token is made
or revoked is the wall clock in UTC: an audit stamp, never a business date.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from lendflow.cli.common import AsOption, JsonOption, acting, parse_code, parse_id, parse_line
from lendflow.cli.output import print_json
from lendflow.domain.errors import BadInput

user_app = typer.Typer(help="The workspace's users and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for the HTTP API.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="User name.", parser=parse_code("NAME"))]


def _now() -> datetime:
    return datetime.now(UTC)


def _moment(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


@user_app.command("add")
def add(
    name: NameArgument,
    role: Annotated[
        list[str],
        typer.Option("--role", help="A role (repeat for several).", parser=parse_code("--role")),
    ],
    full_name: Annotated[
        str | None,
        typer.Option("--full-name", help="The person's name.", parser=parse_line("--full-name")),
    ] = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a user with one or more known roles."""
    from lendflow.identity.users import add_user

    with acting(user) as (ws, actor):
        added = add_user(ws, actor, name, role, _now(), full_name=full_name)
    if json_output:
        print_json(added.model_dump(mode="json"))
    else:
        typer.echo(f"user {added.name} added ({', '.join(added.roles)})")


@user_app.command("list")
def list_command(user: AsOption = None, json_output: JsonOption = False) -> None:
    """Every user with their roles, whether disabled and whether a password is set."""
    from lendflow.identity.users import list_users

    with acting(user) as (ws, actor):
        found = list_users(ws, actor)
    if json_output:
        print_json([u.model_dump(mode="json") for u in found])
        return
    for one in found:
        flags = [f for f, on in (("disabled", one.disabled), ("password", one.has_password)) if on]
        shown = f"  [{', '.join(flags)}]" if flags else ""
        typer.echo(f"{one.name:<16} {', '.join(one.roles)}{shown}")


@user_app.command("disable")
def disable(name: NameArgument, user: AsOption = None, json_output: JsonOption = False) -> None:
    """Disable a user: `--as` them and every token of theirs are refused from now on."""
    from lendflow.identity.users import disable_user

    with acting(user) as (ws, actor):
        done = disable_user(ws, actor, name)
    if json_output:
        print_json(done.model_dump(mode="json"))
    else:
        typer.echo(f"user {done.name} disabled")


@user_app.command("password")
def password(
    name: NameArgument,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    user: AsOption = None,
) -> None:
    """Set a user's password (kept as an Argon2 hash), read from standard input only:
    a password on the command line would stay in the shell's history and `ps`."""
    from lendflow.identity.users import set_password

    if not password_stdin:
        raise BadInput("give the password on standard input with --password-stdin")
    given = _read_password()
    with acting(user) as (ws, actor):
        done = set_password(ws, actor, name, given)
    typer.echo(f"password set for user {done.name}")


@user_app.command("sessions")
def sessions(
    name: NameArgument,
    revoke_all: Annotated[
        bool, typer.Option("--revoke", help="End every live console session of the user.")
    ] = False,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """A user's web console sessions; `--revoke` signs them out everywhere at once."""
    from lendflow.identity.sessions import revoke_sessions, user_sessions

    with acting(user) as (ws, actor):
        if revoke_all:
            ended = revoke_sessions(ws, actor, name, _now())
            if json_output:
                print_json({"user": name, "revoked": ended})
            else:
                typer.echo(f"{ended} session(s) of user {name} revoked")
            return
        found = user_sessions(ws, actor, name)
    if json_output:
        print_json([s.model_dump(mode="json") for s in found])
        return
    for one in found:
        state = "revoked" if one.revoked_at is not None else "open"
        typer.echo(
            f"{one.id:>5}  {state:<8} signed in {_moment(one.created_at)}"
            f"  last seen {_moment(one.last_seen_at)}  expires {_moment(one.expires_at)}"
        )


def _read_password() -> str:
    """The first line of standard input, without its line ending."""
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


@token_app.command("create")
def create(
    owner: Annotated[str, typer.Option("--user", help="Whose token.", parser=parse_code("--user"))],
    label: Annotated[
        str | None,
        typer.Option("--name", help="A label for the token.", parser=parse_line("--name")),
    ] = None,
    expires: Annotated[
        int | None, typer.Option("--expires", help="Days until it expires (default: never).")
    ] = None,
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make an API token and print it once: only its hash is kept, it cannot be shown again."""
    from lendflow.identity.tokens import create_token

    with acting(user) as (ws, actor):
        issued = create_token(ws, actor, owner, _now(), label=label, expires_days=expires)
    if json_output:
        print_json(issued.model_dump(mode="json"))
        return
    typer.echo(issued.token)
    typer.echo(
        f"token {issued.id} for user {issued.user}, expires {_moment(issued.expires_at)}:"
        " copy it now, it is not shown again",
        err=True,
    )


@token_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="Token id.", parser=parse_id("ID"), metavar="ID")],
    user: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Revoke a token: requests carrying it are refused from now on."""
    from lendflow.identity.tokens import revoke_token

    with acting(user) as (ws, actor):
        done = revoke_token(ws, actor, token_id, _now())
    if json_output:
        print_json(done.model_dump(mode="json"))
    else:
        typer.echo(f"token {done.id} of user {done.user} revoked")


@token_app.command("list")
def list_tokens_command(user: AsOption = None, json_output: JsonOption = False) -> None:
    """Every token: id, user, label, dates; never the token itself."""
    from lendflow.identity.tokens import list_tokens

    with acting(user) as (ws, actor):
        found = list_tokens(ws, actor)
    if json_output:
        print_json([t.model_dump(mode="json") for t in found])
        return
    for one in found:
        state = "revoked" if one.revoked_at is not None else "active"
        typer.echo(
            f"{one.id:>5}  {one.user:<16} {one.label or '-':<20} {state:<8}"
            f" expires {_moment(one.expires_at)}  last used {_moment(one.last_used_at)}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
