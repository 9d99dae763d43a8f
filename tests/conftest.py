"""Shared fixtures: an isolated workspace per test, and the databases to test on.

Store and service tests run on a temporary SQLite and, when
LENDFLOW_TEST_POSTGRES_URL is set (CI sets it), on PostgreSQL in a schema of
their own that is dropped afterwards.
"""

from __future__ import annotations

import json
import os
import shlex
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from lendflow.cli import app
from lendflow.config.settings import Settings
from tests.migration_template import MigrationTemplates
from tests.postgres_schemas import PostgresSchemas, schema_url

POSTGRES_ENV = "LENDFLOW_TEST_POSTGRES_URL"

# HYPOTHESIS_PROFILE=deep runs every property and fuzz test with 1,000 examples.
hypothesis_settings.register_profile("deep", max_examples=1000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True, scope="session")
def migrations_from_template(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MigrationTemplates]:
    """`init_workspace` on an empty database copies a schema migrated once per process
    (tests/migration_template.py) instead of running every migration again."""
    from lendflow.store import migrate

    real = migrate.upgrade_to_head
    templates = MigrationTemplates(tmp_path_factory.mktemp("migrated"), real)
    migrate.upgrade_to_head = templates.upgrade
    yield templates
    migrate.upgrade_to_head = real


@pytest.fixture(autouse=True, scope="session")
def cli_built_once() -> Iterator[None]:
    """Typer's test runner built the whole command tree from the functions' annotations on
    every invocation (about 50 ms, where most commands take a few); a process builds it
    once, as `lendflow` itself does."""
    from typer import testing

    real = testing._get_command
    built: dict[int, tuple[Any, Any]] = {}

    def once(typer_app: Any) -> Any:
        found = built.get(id(typer_app))
        if found is None or found[0] is not typer_app:
            found = built[id(typer_app)] = (typer_app, real(typer_app))
        return found[1]

    testing._get_command = once
    yield
    testing._get_command = real


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own workspace home; no test touches ./.lendflow."""
    home = tmp_path / "home"
    monkeypatch.setenv("LENDFLOW_HOME", str(home))
    monkeypatch.delenv("LENDFLOW_DATABASE_URL", raising=False)
    monkeypatch.delenv("LENDFLOW_USER", raising=False)
    # Loan-engine tests decide applications by hand; decisioning tests opt in to
    # automated review (the product default) with `automated_review`.
    monkeypatch.setenv("LENDFLOW_DECISIONING", "manual")
    # The real date is fixed, never the wall clock: business dates in tests run up to
    # early 2027, and the horizon (policy) is measured from this day.
    monkeypatch.setenv("LENDFLOW_TODAY", "2027-12-31")
    return home


@pytest.fixture
def automated_review(monkeypatch: pytest.MonkeyPatch) -> None:
    """Automated credit review, as a workspace runs it by default."""
    monkeypatch.setenv("LENDFLOW_DECISIONING", "automated")


def _postgres_schema_url(base_url: str) -> Iterator[str]:
    """A URL whose connections see only a fresh schema, dropped after the test."""
    schema = f"lf_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - only when the server is down
        admin.dispose()
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL refused: {exc}")
    try:
        yield schema_url(base_url, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schemas(
    migrations_from_template: MigrationTemplates,
) -> Iterator[PostgresSchemas | None]:
    """This process's PostgreSQL schemas, migrated once and emptied between tests."""
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        yield None
        return
    schemas = PostgresSchemas(base_url, migrations_from_template)
    yield schemas
    schemas.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_schemas: PostgresSchemas | None
) -> Iterator[str]:
    """Each store test runs on SQLite and on PostgreSQL (skipped with a reason without it).

    On PostgreSQL the schema is as the migrations left it (`postgres_schemas`), or empty
    for a test marked `empty_database`."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if postgres_schemas is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (CI sets it; see .ci/run)")
    if request.node.get_closest_marker("empty_database"):
        yield from _postgres_schema_url(postgres_schemas.base_url)
        return
    with postgres_schemas.lease() as url:
        yield url


@pytest.fixture
def settings(isolated_environment: Path, database_url: str) -> Settings:
    return Settings(home=isolated_environment, database_url=database_url)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> str:
        """The one line an error prints (more than one line fails the test)."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        return lines[0]


@pytest.fixture
def lendflow():  # type: ignore[no-untyped-def]
    """Call as lendflow("calc schedule --principal 100 ...")."""
    runner = CliRunner()

    def run(command: str) -> Run:
        result = runner.invoke(app, shlex.split(command))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)

    return run
