"""The PostgreSQL schemas tests share within a process: each test finds one as the
migrations left it, whatever the test before did to it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.products import catalogue as products
from tests.conftest import POSTGRES_ENV
from tests.migration_template import MigrationTemplates
from tests.postgres_schemas import PostgresSchemas


@pytest.fixture
def schemas(migrations_from_template: MigrationTemplates) -> Iterator[PostgresSchemas]:
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (CI sets it; see .ci/run)")
    made = PostgresSchemas(base_url, migrations_from_template)
    yield made
    made.close()


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def _use(url: str, home: Path) -> int:
    """A workspace with a product imported; the product version's id."""
    settings = Settings(home=home, database_url=url)
    init_workspace(settings)
    ws = open_workspace(settings)
    try:
        found = products.import_product(
            ws, ws.actor("admin"), example_product_paths()[0], activate=True, as_of=date(2026, 1, 5)
        )
        assert found.id is not None
        return found.id
    finally:
        ws.close()


def test_the_next_test_finds_the_schema_as_the_migrations_left_it(
    schemas: PostgresSchemas, tmp_path: Path
) -> None:
    with schemas.lease() as url:
        first = _use(url, tmp_path / "first")
        migrated_rows = _rows(url, "SELECT version_num FROM alembic_version")
    with schemas.lease() as again:
        assert again == url  # the same schema, emptied
        assert _rows(again, "SELECT count(*) FROM product_versions") == [(0,)]
        assert _rows(again, "SELECT count(*) FROM events") == [(0,)]
        assert _rows(again, "SELECT count(*) FROM users") == [(0,)]
        assert _rows(again, "SELECT version_num FROM alembic_version") == migrated_rows
        # ids start again where the migrations left them: each test sees loan 1 first
        assert _use(again, tmp_path / "second") == first


def test_a_schema_a_test_changed_is_dropped_not_handed_on(
    schemas: PostgresSchemas, tmp_path: Path
) -> None:
    with schemas.lease() as url:
        _use(url, tmp_path / "first")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE products ADD COLUMN left_behind integer"))
        engine.dispose()
    with schemas.lease() as again:
        assert again != url
        columns = _rows(
            again,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = 'products'",
        )
        assert ("left_behind",) not in columns
    gone = url.rsplit("%3D", 1)[1]
    base_url = os.environ[POSTGRES_ENV]
    assert _rows(base_url, f"SELECT count(*) FROM pg_namespace WHERE nspname = '{gone}'") == [(0,)]
