"""PostgreSQL schemas migrated once per test process and emptied for the next test.

A PostgreSQL test used to get a new schema, have the migrations' DDL replayed into it
(`migration_template`), and drop it afterwards: 0.27 s of catalog writes to build it and
0.07 s to drop it, against 0.02 s for the whole workspace set-up on SQLite. With some 440
PostgreSQL tests that was a sixth of the suite's time, and the server's catalogs grew by
every table and index of every test (the test server runs without autovacuum).

Here each test process keeps its schemas. After a test its schema is checked for the
shape the migrations gave it (relations, columns, constraints and triggers); if it still
has that shape, every row is deleted (children before parents), the rows the migrations
themselves wrote are put back (the alembic revision among them), and each sequence is set
to where the migrations left it, in one transaction of some 20 ms. The next test starts from a
database exactly as the migrations left it, which `init_workspace` takes as migrated
(`MigrationTemplates.premigrated`). A schema whose shape a test changed (a migration test
that downgrades, say), or that could not be emptied, is dropped as before. Tests that need
an empty schema (migration tests that start from nothing) are marked `empty_database`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, make_url, text

from lendflow.store import caches, events
from lendflow.store.engine import make_engine
from tests.migration_template import MigrationTemplates

VACUUM_EVERY = 40
"""Recycles of a schema between two VACUUMs of its tables: deleted rows stay behind as
dead tuples on a server without autovacuum, and every test's reads would wade through
them."""

SHAPE = """
SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
    SELECT 'r:' || c.relname || ':' || CAST(c.relkind AS text) AS item FROM pg_class c
    WHERE c.relnamespace = CAST(:schema AS regnamespace)
    UNION ALL
    SELECT 'a:' || c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
        || ':' || a.attnotnull
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = CAST(:schema AS regnamespace) AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'c:' || conname FROM pg_constraint
    WHERE connamespace = CAST(:schema AS regnamespace)
    UNION ALL
    SELECT 't:' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = CAST(:schema AS regnamespace) AND NOT t.tgisinternal
) shape
"""
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = :schema"
SEQUENCES = (
    "SELECT sequencename, last_value, last_value IS NOT NULL FROM pg_sequences"
    " WHERE schemaname = :schema"
)
FOREIGN_KEYS = """
SELECT child.relname, parent.relname FROM pg_constraint k
JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
WHERE k.contype = 'f' AND k.connamespace = CAST(:schema AS regnamespace)
"""


def schema_url(base_url: str, schema: str) -> str:
    """`base_url` with its connections' search path set to `schema` alone."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Migrated:
    """What the migrations leave in a schema: its shape, and the SQL that empties a used
    schema back to it (its tables named without a schema: the search path chooses)."""

    shape: str
    reset_sql: str
    tables: list[str] = field(default_factory=list)


class PostgresSchemas:
    """The schemas of one test process on the server at `base_url`."""

    def __init__(self, base_url: str, templates: MigrationTemplates) -> None:
        self.base_url = base_url
        self.templates = templates
        self.admin = create_engine(base_url, isolation_level="AUTOCOMMIT", pool_size=1)
        self.resets = create_engine(base_url, pool_size=1)  # each reset one transaction
        self.idle: list[str] = []
        self.made: set[str] = set()
        self.recycled: dict[str, int] = {}
        self.migrated: _Migrated | None = None

    def url(self, schema: str) -> str:
        return schema_url(self.base_url, schema)

    @contextmanager
    def lease(self) -> Iterator[str]:
        """A schema as the migrations left it, for one test; emptied or dropped after."""
        schema = self.idle.pop() if self.idle else self._migrated_schema()
        self.templates.premigrated.add(schema)
        try:
            yield self.url(schema)
        finally:
            self.templates.premigrated.discard(schema)
            self._recycle(schema)

    def close(self) -> None:
        for schema in sorted(self.made):
            self._drop(schema)
        self.admin.dispose()
        self.resets.dispose()

    def _create(self) -> str:
        schema = f"lf_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {_quoted(schema)}"))
        self.made.add(schema)
        return schema

    def _migrated_schema(self) -> str:
        """A new schema, migrated (from the template once the process has one)."""
        schema = self._create()
        engine = make_engine(self.url(schema))
        try:
            self.templates.upgrade(engine)
            if self.migrated is None:
                self.migrated = _snapshot(engine, schema)
        finally:
            engine.dispose()
        return schema

    def _recycle(self, schema: str) -> None:
        assert self.migrated is not None
        try:
            with self.resets.begin() as connection:
                if _shape(connection, schema) != self.migrated.shape:
                    raise LookupError("the test changed the schema")
                connection.exec_driver_sql(f"SET LOCAL search_path = {_quoted(schema)}")
                connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
                connection.exec_driver_sql(self.migrated.reset_sql)
            self._vacuum_now_and_then(schema)
        except Exception:  # any doubt: the schema goes, as every schema used to
            self._drop(schema)
            return
        # the same URL now names a new database: nothing kept for the old one holds
        database = str(make_url(self.url(schema)))
        caches.forget(database)
        events.forget_chain_key(database)
        self.idle.append(schema)

    def _vacuum_now_and_then(self, schema: str) -> None:
        count = self.recycled[schema] = self.recycled.get(schema, 0) + 1
        if count % VACUUM_EVERY == 0 and self.migrated is not None:
            names = ", ".join(f"{_quoted(schema)}.{_quoted(t)}" for t in self.migrated.tables)
            with self.admin.connect() as connection:
                connection.exec_driver_sql(f"VACUUM {names}")

    def _drop(self, schema: str) -> None:
        self.made.discard(schema)
        with self.admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {_quoted(schema)} CASCADE"))


def _shape(connection: Connection, schema: str) -> str:
    return str(connection.execute(text(SHAPE), {"schema": schema}).scalar())


def _snapshot(engine: Engine, schema: str) -> _Migrated:
    """The shape of a schema the migrations just built, and how to bring a used one back
    to it: delete every row (a table's children first), insert what the migrations
    wrote, and set each sequence where they left it."""
    with engine.connect() as connection:
        shape = _shape(connection, schema)
        params = {"schema": schema}
        tables = sorted(row[0] for row in connection.execute(text(TABLES), params))
        children: dict[str, set[str]] = {table: set() for table in tables}
        for child, parent in connection.execute(text(FOREIGN_KEYS), params):
            if child != parent:  # a table's own rows go in one statement
                children[parent].add(child)
        order = list(TopologicalSorter(children).static_order())
        statements = [f"DELETE FROM {_quoted(table)}" for table in order]
        for table in tables:
            rows = connection.execute(text(f"SELECT * FROM {_quoted(table)}")).mappings().all()
            statements += [_insert(table, dict(row)) for row in rows]
        for name, last, called in connection.execute(text(SEQUENCES), params):
            if called:
                statements.append(f"SELECT setval('{_quoted(name)}', {int(last)}, true)")
            else:
                statements.append(f"ALTER SEQUENCE {_quoted(name)} RESTART")
    return _Migrated(shape, ";\n".join(statements), tables)


def _insert(table: str, row: dict[str, Any]) -> str:
    """An INSERT of `row` with its values as SQL literals."""
    columns = ", ".join(_quoted(column) for column in row)
    values = ", ".join(_literal(value) for value in row.values())
    return f"INSERT INTO {_quoted(table)} ({columns}) VALUES ({values})"


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
