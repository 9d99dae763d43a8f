"""A migrated schema made once per test process and cloned into each test's empty database.

Almost every test begins with `init_workspace` on an empty database, and running the
29 migrations took 0.1 s on SQLite and 0.3 s on PostgreSQL each time: a fifth of the
suite's set-up. The first empty database of each kind a process meets is migrated for
real; after that the result is copied in:

- SQLite: the migrated file is the template, copied into the new database with SQLite's
  online backup (every page, so what the migrations inserted comes too).
- PostgreSQL: every statement the real migration sent that changed something, recorded
  with its parameters, is sent again in the new test's own schema in one transaction.
  The statements name no schema (the search path chooses it), so they build the same
  tables there.

A database that already holds tables (an older revision that a test upgrades, a workspace
opened twice) goes through the real migrations as before, and so does every migration
test, which calls alembic itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, inspect

Upgrade = Callable[[Engine], str]
_READS = ("SELECT", "WITH", "SHOW")


class MigrationTemplates:
    """`upgrade(engine)` with the signature of `store.migrate.upgrade_to_head`."""

    def __init__(self, folder: Path, real_upgrade: Upgrade) -> None:
        self.folder = folder
        self.real_upgrade = real_upgrade
        self.sqlite_template: Path | None = None
        self.revision: dict[str, str] = {}
        self.postgres_writes: list[tuple[str, Any, bool]] | None = None
        self.premigrated: set[str] = set()
        """PostgreSQL schemas handed to a test as the migrations left them
        (`postgres_schemas`): their first upgrade has nothing to do."""

    def upgrade(self, engine: Engine) -> str:
        schema = _schema_of(engine)
        if schema in self.premigrated:
            self.premigrated.discard(schema)  # a test that downgrades upgrades for real
            return self.revision["postgresql"]
        if inspect(engine).get_table_names():
            return self.real_upgrade(engine)
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            return self._sqlite(engine)
        if engine.dialect.name == "postgresql":
            return self._postgres(engine)
        return self.real_upgrade(engine)

    def _sqlite(self, engine: Engine) -> str:
        if self.sqlite_template is None:
            template = self.folder / "migrated.db"
            from lendflow.store.engine import make_engine

            made = make_engine(f"sqlite:///{template}")
            try:
                self.revision["sqlite"] = self.real_upgrade(made)
            finally:
                made.dispose()  # the last connection to close copies the log into the file
            self.sqlite_template = template
        source = sqlite3.connect(self.sqlite_template)
        try:
            with engine.connect() as connection:
                source.backup(connection.connection.driver_connection)
        finally:
            source.close()
        return self.revision["sqlite"]

    def _postgres(self, engine: Engine) -> str:
        if self.postgres_writes is None:
            recorded: list[tuple[str, Any, bool]] = []

            def record(_c: Any, _k: Any, sql: str, params: Any, _x: Any, many: bool) -> None:
                if not sql.lstrip().upper().startswith(_READS):
                    recorded.append((sql, params, many))

            event.listen(engine, "before_cursor_execute", record)
            try:
                self.revision["postgresql"] = self.real_upgrade(engine)
            finally:
                event.remove(engine, "before_cursor_execute", record)
            self.postgres_writes = recorded
            return self.revision["postgresql"]
        with engine.begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            for statement, params, many in _batched(self.postgres_writes):
                if many:
                    cursor.executemany(statement, params)
                else:
                    cursor.execute(statement, params or None)
        return self.revision["postgresql"]


def _schema_of(engine: Engine) -> str | None:
    """The schema a PostgreSQL URL's search path names (`options=-csearch_path=...`)."""
    if engine.dialect.name != "postgresql":
        return None
    options = engine.url.query.get("options")
    option = options if isinstance(options, str) else None
    prefix = "-csearch_path="
    return option[len(prefix) :] if option and option.startswith(prefix) else None


def _batched(writes: list[tuple[str, Any, bool]]) -> list[tuple[str, Any, bool]]:
    """The statements without parameters that follow one another joined into one string:
    one round trip for a run of DDL instead of one per statement."""
    batched: list[tuple[str, Any, bool]] = []
    run: list[str] = []
    for statement, params, many in writes:
        if params or many:
            if run:
                batched.append((";\n".join(run), None, False))
                run = []
            batched.append((statement, params, many))
        else:
            run.append(statement)
    if run:
        batched.append((";\n".join(run), None, False))
    return batched
