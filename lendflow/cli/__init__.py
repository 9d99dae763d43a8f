"""The `lendflow` command line: parse, call a service or a flow, print.

Errors are mapped to exit codes here and nowhere else: 0 ok, 1 refused by a
business rule, 2 bad input; each error is one line on stderr. Heavy modules
(the store, Prefect) are imported inside the commands that need them, so plain
commands start fast.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import click
import typer
from typer.core import TyperGroup

from lendflow.domain.errors import BadInput, LendflowError

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class LendflowGroup(TyperGroup):
    """The root command: turns every error into one line and an exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Refuse a control character anywhere on the command line, before any command:
        no option means one, and PostgreSQL refuses a NUL outright."""
        for arg in args:
            if _CONTROL.search(arg):
                raise BadInput(f"argument {arg[:20]!r} contains a control character")
        return super().parse_args(ctx, args)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except LendflowError as exc:
            _fail(exc.message, exc.exit_code)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.Abort:
            _fail("aborted", 1)
        except typer.TyperException as exc:  # usage errors: unknown option, bad choice, ...
            _fail(_one_line(exc), 2)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)


def _one_line(exc: typer.TyperException) -> str:
    """Click's multi-line usage error as one line naming the command."""
    format_message = getattr(exc, "format_message", None)
    message = " ".join((format_message() if format_message else str(exc)).split())
    message = message.replace("Value error, ", "")
    ctx = getattr(exc, "ctx", None)
    return f"{ctx.command_path}: {message}" if ctx is not None else message


app = typer.Typer(
    cls=LendflowGroup,
    name="lendflow",
    help="lendflow: run microloan products through their life, and their loans through theirs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _register() -> None:
    from lendflow.cli import admin, calc, cob, loan, product, runs, workspace

    workspace.register(app)
    app.add_typer(calc.app, name="calc")
    product.app.command("import")(admin.product_import)
    app.add_typer(product.app, name="product")
    app.add_typer(loan.app, name="loan")
    app.add_typer(admin.audit_app, name="audit")
    app.add_typer(admin.machine_app, name="machine")
    app.add_typer(runs.app, name="run")
    app.add_typer(cob.app, name="cob")
    from lendflow.cli import gate, server, stage

    app.add_typer(server.app, name="server")
    app.add_typer(stage.app, name="stage")
    app.add_typer(gate.app, name="gate")
    from lendflow.cli import docs

    app.add_typer(docs.app, name="docs")
    from lendflow.cli import credit

    app.add_typer(credit.queue_app, name="queue")
    app.add_typer(credit.scorecard_app, name="scorecard")
    app.add_typer(credit.decisions_app, name="decisions")
    app.add_typer(credit.blocklist_app, name="blocklist")
    app.add_typer(credit.related_app, name="related")
    from lendflow.cli import collection

    app.add_typer(collection.app, name="collection")
    from lendflow.cli import consent

    app.add_typer(consent.app, name="consent")
    from lendflow.cli import report

    app.add_typer(report.app, name="report")
    from lendflow.cli import ledger

    app.add_typer(ledger.app, name="ledger")
    from lendflow.cli import monitoring

    app.add_typer(monitoring.kpi_app, name="kpi")
    app.add_typer(monitoring.ticket_app, name="ticket")
    app.command("serve")(cob.serve_command)
    from lendflow.cli import keys

    keys.register(app)
    from lendflow.cli import web

    web.register(app)
    from lendflow.cli import users

    users.register(app)


_register()


def main() -> None:
    from lendflow.cli.exiting import ending

    with ending():
        app()
