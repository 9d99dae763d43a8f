"""`lendflow web`: serve the HTTP API with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from lendflow.domain.errors import BadInput


def web(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes, each with its own workspace.", min=1, max=64)
    ] = 1,
    home: Annotated[
        Path | None,
        typer.Option(
            help="The workspace folder (default: LENDFLOW_HOME), e.g. demo-report/workspace."
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            help="Requests each worker serves at once; the rest wait their turn"
            " (default: LENDFLOW_WEB_THREADS, else 4).",
            min=1,
            max=256,
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (a reverse proxy in front may log instead).")
    ] = True,
) -> None:
    """Serve the API at /api/v1 (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs) and
    the web console at /console."""
    import uvicorn

    from lendflow.bootstrap import open_workspace

    if len(host) > 255 or not host.strip() or any(c.isspace() for c in host):
        raise BadInput(f"--host must be a host name or address, got {host!r}")
    if home is not None:
        if not home.is_dir():
            raise BadInput(f"--home {home} is not a folder")
        # the server's workers read the workspace from the environment, as every command does
        os.environ["LENDFLOW_HOME"] = str(home.resolve())
    if threads is not None:
        os.environ["LENDFLOW_WEB_THREADS"] = str(threads)
    ws = open_workspace()  # refuse a missing or unreadable workspace before listening
    try:
        ws.reader().close()  # the key must open it and the schema be this code's
    finally:
        ws.close()
    uvicorn.run(
        "lendflow.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
        access_log=access_log,
    )


def register(app: typer.Typer) -> None:
    app.command("web")(web)
