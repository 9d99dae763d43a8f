"""The workspace and its store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import stat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from lendflow.bootstrap import init_workspace, workspace_for
from lendflow.config.settings import Settings
from lendflow.domain.errors import BadInput
from lendflow.store.engine import make_engine
from lendflow.store.migrate import current_revision, head_revision
from lendflow.store.tables import metadata, product_versions, products


def test_init_migrates_to_head_and_is_safe_to_repeat(settings: Settings) -> None:
    first = init_workspace(settings)
    second = init_workspace(settings)
    assert first.revision == second.revision == head_revision()
    assert first.key_created and not second.key_created
    engine = workspace_for(settings).engine
    try:
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {"products", "product_versions", "alembic_version"} <= tables
    finally:
        engine.dispose()


def test_secret_key_is_private_and_never_replaced(settings: Settings) -> None:
    init_workspace(settings)
    key = settings.key_file.read_text()
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    assert len(key.strip()) == 64
    init_workspace(settings)
    assert settings.key_file.read_text() == key


def test_a_key_readable_by_others_is_refused(settings: Settings) -> None:
    init_workspace(settings)
    settings.key_file.chmod(0o644)
    with pytest.raises(BadInput, match="chmod 600"):
        init_workspace(settings)


def _version(product_code: str, max_amount: int) -> dict[str, object]:
    return {
        "product_code": product_code,
        "version": 1,
        "state": "draft",
        "spec_yaml": "code: p1",
        "spec_sha256": "0" * 64,
        "min_amount": 1,
        "max_amount": max_amount,
        "annual_rate": "18.25",
        "created_by": "admin",
    }


def test_money_columns_hold_amounts_beyond_32_bits_exactly(settings: Settings) -> None:
    """Fen amounts of a large book pass 2^31 quickly: the columns must be BIGINT."""
    init_workspace(settings)
    engine = workspace_for(settings).engine
    big = 9_007_199_254_740_993  # 2^53 + 1: would lose its last digit through a float
    try:
        with engine.begin() as connection:
            connection.execute(insert(products).values(code="p1", name="P"))
            connection.execute(insert(product_versions).values(**_version("p1", big)))
        with engine.connect() as connection:
            stored = connection.execute(select(product_versions.c.max_amount)).scalar_one()
        assert stored == big
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(settings: Settings) -> None:
    init_workspace(settings)
    engine = workspace_for(settings).engine
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert(product_versions).values(**_version("missing", 2)))
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_declared_tables(settings: Settings) -> None:
    """The schema alembic builds is the one the code declares: no drift either way."""
    init_workspace(settings)
    engine = workspace_for(settings).engine
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_postgresql_keeps_room_in_each_loans_page_for_the_nights_row_versions(
    settings: Settings,
) -> None:
    """Half of each `loans` page (a tenth of each `instalments` one) is kept free on
    PostgreSQL, so the watermark and the penalty the night writes stay heap-only updates,
    on their page and out of the tables' indexes."""
    init_workspace(settings)
    engine = workspace_for(settings).engine
    try:
        if engine.dialect.name != "postgresql":
            pytest.skip("a table's fillfactor is PostgreSQL's")
        with engine.connect() as connection:
            options = dict(
                connection.execute(
                    text(
                        "SELECT relname, reloptions FROM pg_class"
                        " WHERE oid IN ('loans'::regclass, 'instalments'::regclass)"
                    )
                ).all()
            )
        assert options == {"loans": ["fillfactor=50"], "instalments": ["fillfactor=90"]}
    finally:
        engine.dispose()


def _keyed(settings: Settings, table: str) -> list[list[str]]:
    """The columns of each index and unique constraint of `table` in a new workspace."""
    init_workspace(settings)
    engine = workspace_for(settings).engine
    try:
        found = inspect(engine)
        keyed = [index["column_names"] for index in found.get_indexes(table)]
        return keyed + [u["column_names"] for u in found.get_unique_constraints(table)]
    finally:
        engine.dispose()


def test_appending_an_event_writes_no_index_keyed_by_its_random_hash(settings: Settings) -> None:
    """An event's hash is a random key: a unique index on it had each append write a leaf
    page picked at random from an index that only grows (a twentieth of the pages a large
    close-of-business chunk commits). Events are indexed by their entity alone."""
    assert _keyed(settings, "events") == [["entity_id"]]


def test_instalments_are_indexed_by_loan_once(settings: Settings) -> None:
    """(loan id, number) serves every read of a loan's instalments: a second index on the
    loan id alone only cost each instalment written another entry."""
    keyed = _keyed(settings, "instalments")
    assert ["loan_id", "n"] in keyed
    assert ["loan_id"] not in keyed


def test_instalments_are_indexed_by_due_date_only_where_the_night_reads_them(
    settings: Settings,
) -> None:
    """The night reads instalments by date only where they are unrecognised: an index on
    the due date alone, and another on the unpaid ones by date, served no query, yet each
    took a leaf page for every instalment of every payout (a third of its pages)."""
    keyed = _keyed(settings, "instalments")
    assert ["due_date"] not in keyed
    assert keyed.count(["due_date", "loan_id"]) == 1  # the unrecognised ones


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
            # the log file gives back what a large close of business grew it to
            assert connection.execute(text("PRAGMA journal_size_limit")).scalar() == 64 << 20
    finally:
        engine.dispose()


def test_an_unusable_database_url_is_one_clear_error() -> None:
    with pytest.raises(BadInput, match="unsupported database 'mysql'"):
        make_engine("mysql://localhost/x")
    with pytest.raises(BadInput, match="not valid"):
        make_engine("::nonsense::")


def test_opening_a_workspace_that_was_never_initialised_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadInput, match="run `lendflow init` first"):
        _ = workspace_for(Settings(home=tmp_path / "nowhere")).engine


def test_the_fast_read_path_knows_every_column_it_reads() -> None:
    """`store.reads` names columns by hand to avoid importing SQLAlchemy; they must exist."""
    from lendflow.store import reads, tables

    assert set(reads.LOAN_COLUMNS) <= set(tables.loans.c.keys())
    assert set(reads.INSTALMENT_COLUMNS) == set(tables.instalments.c.keys())
    assert set(reads.CUSTOMER_COLUMNS) <= set(tables.customers.c.keys())
    assert set(tables.loans.c.keys()) - set(reads.LOAN_COLUMNS) == {"created_at", "updated_at"}


def test_the_expected_schema_is_alembic_head() -> None:
    from lendflow.store.schema_version import HEAD_REVISION

    assert head_revision() == HEAD_REVISION


def test_an_old_schema_is_one_clear_line_asking_for_init(settings: Settings) -> None:
    init_workspace(settings)
    engine = make_engine(settings.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    engine.dispose()
    with pytest.raises(BadInput, match=r"schema 0002, this lendflow needs .*run `lendflow init`"):
        _ = workspace_for(settings).engine
    from lendflow.store.reads import Reader

    with pytest.raises(BadInput, match="run `lendflow init` to migrate it"):
        Reader(settings.resolved_database_url)
