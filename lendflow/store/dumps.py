"""Whole-database copies for `lendflow backup` and `restore`.

SQLite is copied through its online backup API, page by page under SQLite's own
locking, so the copy is consistent even while another process writes (a plain file
copy of a WAL database is not). PostgreSQL goes through `pg_dump -Fc` and
`pg_restore`, which take a consistent snapshot the same way.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from lendflow.domain.errors import BadInput

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql+psycopg://", "postgresql://")


def kind_of(url: str) -> str:
    """'sqlite' or 'postgresql', else a refusal."""
    if url.startswith(SQLITE_PREFIX):
        return "sqlite"
    if url.startswith(POSTGRES_PREFIXES):
        return "postgresql"
    raise BadInput(f"cannot back up a database at {url.split(':', 1)[0]!r}: sqlite or postgresql")


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix(SQLITE_PREFIX))


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database consistently, even while it is written to."""
    if not source.exists():
        raise BadInput(f"no database at {source}")
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
        target_db = sqlite3.connect(target)
        try:
            src.backup(target_db)
        finally:
            target_db.close()


def pg_dump(url: str, target: Path) -> None:
    """`pg_dump -Fc` of the workspace's database (its schema only, when the URL names one)."""
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}"]
    schema = _schema(url)
    if schema:
        command.append(f"--schema={schema}")
    _run([*command, f"--dbname={libpq_url(url)}"], "pg_dump", url)


def pg_restore(url: str, dump: Path) -> None:
    """Replace what the dump holds in the database, in one transaction."""
    command = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={libpq_url(url)}",
        str(dump),
    ]
    _run(command, "pg_restore", url)


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (no driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _schema(url: str) -> str | None:
    """The schema a `?options=-csearch_path=...` URL confines the workspace to."""
    options = parse_qs(urlsplit(url).query).get("options", [])
    for option in options:
        text = unquote(option)
        if text.startswith("-csearch_path="):
            return text.removeprefix("-csearch_path=").split(",")[0].strip() or None
    return None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BadInput(f"{name} is not installed: install the PostgreSQL client tools")
    return found


def _run(command: list[str], name: str, url: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split())[:300]
        password = urlsplit(libpq_url(url)).password
        if password:
            detail = detail.replace(password, "***")
        raise BadInput(f"{name} failed: {detail}")
