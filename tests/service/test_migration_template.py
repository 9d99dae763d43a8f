"""The schema the tests copy into each empty database (tests/migration_template.py) is the
one the migrations build: the same tables, columns, indexes and rows, on both databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from lendflow.store import migrate
from lendflow.store.engine import make_engine
from lendflow.store.migrate import alembic_config
from tests.conftest import POSTGRES_ENV, _postgres_schema_url
from tests.digest import database_digest
from tests.migration_template import MigrationTemplates


def _shape(engine: Engine) -> dict[str, Any]:
    """Every table's columns (name, type, nullability, default), indexes and unique
    constraints, as the database describes them."""
    found = inspect(engine)
    shape: dict[str, Any] = {}
    for table in sorted(found.get_table_names()):
        shape[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in found.get_columns(table)
            ],
            "indexes": sorted(
                (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in found.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (f["referred_table"], tuple(f["constrained_columns"]))
                for f in found.get_foreign_keys(table)
            ),
        }
    return shape


@pytest.fixture
def two_more(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two more empty databases of the same kind."""
    if database_url.startswith("sqlite"):
        yield (f"sqlite:///{tmp_path / 'primer.db'}", f"sqlite:///{tmp_path / 'copy.db'}")
        return
    base = os.environ[POSTGRES_ENV]
    primer, copy = _postgres_schema_url(base), _postgres_schema_url(base)
    yield (next(primer), next(copy))
    for made in (primer, copy):
        next(made, None)  # drops the schema


def test_a_copied_schema_is_the_migrated_one(
    database_url: str,
    two_more: tuple[str, str],
    migrations_from_template: MigrationTemplates,
) -> None:
    primer_url, copy_url = two_more
    migrated, primer, copied = (make_engine(u) for u in (database_url, primer_url, copy_url))
    try:
        command.upgrade(alembic_config(migrated), "head")
        migrations_from_template.upgrade(primer)  # the template is made now if it was not
        copied_revision = migrations_from_template.upgrade(copied)  # so this is a copy
        assert copied_revision == migrate.head_revision()
        assert _shape(copied) == _shape(migrated)
        assert migrate.current_revision(copied) == migrate.head_revision()
        assert database_digest(copy_url) == database_digest(database_url)
    finally:
        for engine in (migrated, primer, copied):
            engine.dispose()
