"""Prefect's own SQLite database, kept empty as its migrations leave it, so that a new
workspace's Prefect server can start from a copy instead of migrating again (seconds).

Not lendflow's database: plain `sqlite3` on a file Prefect owns, here because every SQL
statement lives in the store.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path


def copy_if_absent(template: Path, database: Path) -> bool:
    """Make `database` a copy of `template`; never over a database made meanwhile by
    another command (a hard link fails on an existing name). False when nothing copied."""
    if not template.exists():
        return False
    partial = database.with_name(f".{database.name}.{os.getpid()}.partial")
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, partial)
        os.link(partial, database)
    except OSError:
        return False
    finally:
        partial.unlink(missing_ok=True)
    return True


def keep_if_empty(database: Path, template: Path) -> bool:
    """Copy `database` (open in a running server: SQLite's online backup) to `template`
    when no table holds a row but alembic's schema version; False when not kept."""
    if template.exists():
        return False
    partial = template.with_name(f".{template.name}.{os.getpid()}.partial")
    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            if not _only_schema(source):
                return False
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
        os.replace(partial, template)
    except (OSError, sqlite3.Error):
        return False
    finally:
        partial.unlink(missing_ok=True)
    return True


def _only_schema(connection: sqlite3.Connection) -> bool:
    tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    for (table,) in tables.fetchall():
        if table == "alembic_version" or table.startswith("sqlite_"):
            continue
        if connection.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
            return False
    return True
