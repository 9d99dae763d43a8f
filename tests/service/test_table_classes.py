"""The stored tables are SQLModel classes; the schema they declare is the migrated one.

`test_workspace_store.py` compares the migrated database with the metadata as alembic's
autogenerate does. Autogenerate leaves out server defaults unless asked and never looks
at a partial index's predicate, so both are compared here too, on SQLite and PostgreSQL,
along with what no database holds: the Python-side defaults the Core statements apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BigInteger, DateTime, Engine, Index, String, Table, inspect
from sqlalchemy.schema import CreateIndex
from sqlmodel import SQLModel

from lendflow.bootstrap import init_workspace, workspace_for
from lendflow.config.settings import Settings
from lendflow.store import tables
from lendflow.store.tables import StoredTable, metadata, utc_now


@pytest.fixture
def migrated(settings: Settings) -> Iterator[Engine]:
    """A database migrated to alembic head by `lendflow init`."""
    init_workspace(settings)
    engine = workspace_for(settings).engine
    yield engine
    engine.dispose()


def _classes() -> list[type[StoredTable]]:
    found: list[type[StoredTable]] = []
    pending = list(StoredTable.__subclasses__())
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_migrated_schema_matches_the_classes_server_defaults_included(migrated: Engine) -> None:
    with migrated.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, metadata) == []


def _predicate(sql: str) -> str:
    """A partial index's condition as written or as the database gives it back."""
    bare = re.sub(r"::(text|character varying)", "", sql)  # PostgreSQL's casts of a string
    return re.sub(r"\s+", " ", bare.replace("(", "").replace(")", "")).strip().lower()


def _declared_predicate(index: Index, engine: Engine) -> str | None:
    ddl = str(CreateIndex(index).compile(dialect=engine.dialect))
    _, where, condition = ddl.partition(" WHERE ")
    return _predicate(condition) if where else None


def test_partial_indexes_are_migrated_with_their_conditions(migrated: Engine) -> None:
    dialect = migrated.dialect.name
    declared = {
        index.name: predicate
        for table in metadata.tables.values()
        for index in table.indexes
        if (predicate := _declared_predicate(index, migrated)) is not None
    }
    inspector = inspect(migrated)
    stored = {
        index["name"]: _predicate(str(where))
        for name in metadata.tables
        for index in inspector.get_indexes(name)
        if (where := index.get("dialect_options", {}).get(f"{dialect}_where")) is not None
    }
    assert set(declared) == {
        "ix_instalments_unrecognised",
        "ix_instalments_arrears",
        "ix_loans_held",
        "ix_loans_restructured",
        "ix_loans_non_accrual",
        "ix_loans_classed",
        "ix_loans_lifted",
        "ix_journal_lines_allowance",
        "ix_journal_entries_reversal_of",
    }
    assert stored == declared


def test_each_table_is_declared_once_as_a_class_in_the_one_metadata() -> None:
    classes = _classes()
    assert {cls.__table__.name for cls in classes} == set(metadata.tables)  # type: ignore[attr-defined]
    assert all(cls.__table__ is metadata.tables[cls.__tablename__] for cls in classes)  # type: ignore[attr-defined]
    assert not set(metadata.tables) & set(SQLModel.metadata.tables)
    named = {name: value for name, value in vars(tables).items() if isinstance(value, Table)}
    assert set(named.values()) == set(metadata.tables.values())
    assert all(table.name == name for name, table in named.items())
    assert tables.loans is tables.Loan.__table__  # type: ignore[attr-defined]


def test_python_side_defaults_are_those_the_core_statements_rely_on() -> None:
    """Money is 0 fen unless it may be unknown; audit timestamps are stamped with utc_now."""
    for table in metadata.tables.values():
        for column in table.columns:
            where = f"{table.name}.{column.name}"
            if isinstance(column.type, BigInteger):
                if column.nullable:
                    assert column.default is None, where
                else:
                    assert column.default is not None and column.default.arg == 0, where
            if isinstance(column.type, DateTime):
                assert column.type.timezone, where
                if column.name in {"created_at", "updated_at", "started_at"}:
                    assert column.default is not None, where
                    assert column.default.is_callable and not column.nullable, where
                    assert column.default.arg.__wrapped__ is utc_now, where
                else:
                    assert column.default is None, where
            if column.name in {"annual_rate", "apr"}:
                assert isinstance(column.type, String) and column.type.length == 32, where
    assert tables.loans.c.written_off_amount.server_default.arg == "0"  # type: ignore[union-attr]
    assert tables.loans.c.purpose.default.arg == ""  # type: ignore[union-attr]
    assert tables.instalments.c.recognised.default.arg is False  # type: ignore[union-attr]
