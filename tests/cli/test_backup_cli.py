"""`lendflow backup` and `restore`: the database and its key kept together, checked
against the manifest before anything is overwritten, audited after."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id
from lendflow.store.schema_version import HEAD_REVISION

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")
ID = sample_national_id(date(1990, 5, 17), 322)


def fill(lendflow) -> str:  # type: ignore[no-untyped-def]
    """A small book: a disbursed loan with its contract, a decision note, a ticket."""
    assert lendflow("init").exit_code == 0
    imported = lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05")
    assert imported.exit_code == 0, imported.stderr
    applied = lendflow(
        f"loan apply --consent all --product cash-easy --name 王五 --id-number {ID}"
        " --phone 13812345678"
        " --monthly-income 8000 --amount 10000 --term 3 --on 2026-01-10"
    )
    assert applied.exit_code == 0, applied.stderr
    loan = applied.stdout.strip()
    assert lendflow(f"loan review {loan} --on 2026-01-10").exit_code == 0
    assert lendflow(f"loan approve {loan} --as risk --note 已核实 --on 2026-01-11").exit_code == 0
    assert lendflow(f"loan disburse {loan} --on 2026-01-12").exit_code == 0
    assert (
        lendflow(f"ticket open question --subject 怎么还款 --loan {loan} --on 2026-01-13").exit_code
        == 0
    )
    return loan


def assert_restored(lendflow, loan: str) -> None:  # type: ignore[no-untyped-def]
    shown = lendflow(f"loan show {loan} --as admin --on 2026-01-13 --json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["customer"]["name"] == "王五"
    assert shown.json()["state"] == "active"
    assert lendflow("ticket list --on 2026-01-13 --json").json()[0]["subject"] == "怎么还款"
    audit = lendflow("audit verify --as auditor")
    assert audit.exit_code == 0 and audit.stdout.startswith("OK: ")


@pytest.fixture
def ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LENDFLOW_USER", "ops")


def test_backup_and_restore_on_sqlite(  # type: ignore[no-untyped-def]
    lendflow, ops, isolated_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loan = fill(lendflow)
    out = tmp_path / "backup"
    refused = lendflow(f"backup --out {out}")
    assert refused.exit_code == 1 and "may not back up" in refused.error()
    # A writer in the middle of a transaction: the backup holds what is committed.
    live = sqlite3.connect(isolated_environment / "lendflow.db", isolation_level=None)
    live.execute("BEGIN IMMEDIATE")
    live.execute("INSERT INTO workspace_keys VALUES ('uncommitted', 'retired', '2026-01-13')")
    made = lendflow(f"backup --out {out} --as admin --json")
    live.execute("ROLLBACK")
    live.close()
    assert made.exit_code == 0, made.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest == {
        "database": "sqlite",
        "files": made.json()["files"],
        "format": 1,
        "key_fingerprint": made.json()["key_fingerprint"],
        "schema_revision": HEAD_REVISION,
    }
    assert sorted(manifest["files"]) == [
        "lendflow.db",
        "sandbox_gateway.db",
        "secret.key",
        "users.yaml",
    ]
    assert (out / "secret.key").stat().st_mode & 0o777 == 0o600
    assert out.stat().st_mode & 0o777 == 0o700
    again = lendflow(f"backup --out {out} --as admin")
    assert again.exit_code == 2 and "not an empty folder" in again.error()

    monkeypatch.setenv("LENDFLOW_HOME", str(tmp_path / "elsewhere"))
    restored = lendflow(f"restore {out}")
    assert restored.exit_code == 0, restored.stderr
    assert "audit OK" in restored.stdout
    assert_restored(lendflow, loan)
    copy = sqlite3.connect(tmp_path / "elsewhere" / "lendflow.db")
    assert copy.execute("SELECT count(*) FROM workspace_keys").fetchone() == (1,)
    busy = lendflow(f"restore {out}")
    assert busy.exit_code == 2 and "already holds a workspace" in busy.error()
    assert lendflow(f"restore {out} --force").exit_code == 0


def test_a_damaged_backup_is_refused_before_anything_is_touched(  # type: ignore[no-untyped-def]
    lendflow, ops, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(lendflow)
    out = tmp_path / "backup"
    assert lendflow(f"backup --out {out} --as admin").exit_code == 0
    database = out / "lendflow.db"
    damaged = bytearray(database.read_bytes())
    damaged[-100] ^= 0xFF
    database.write_bytes(bytes(damaged))
    target = tmp_path / "elsewhere"
    monkeypatch.setenv("LENDFLOW_HOME", str(target))
    refused = lendflow(f"restore {out}")
    assert refused.exit_code == 2
    assert "does not match its SHA-256 in the manifest" in refused.error()
    assert not target.exists()


@pytest.fixture
def postgres_databases() -> Iterator[tuple[str, str]]:
    """Two databases of their own (never `test` itself), dropped afterwards."""
    base = os.environ.get("LENDFLOW_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL tests need LENDFLOW_TEST_POSTGRES_URL (CI sets it; see .ci/run)")
    names = [f"lendflow_backup_test_{os.getpid()}", f"lendflow_restore_test_{os.getpid()}"]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base)
    try:
        yield (
            url.set(database=names[0]).render_as_string(hide_password=False),
            url.set(database=names[1]).render_as_string(hide_password=False),
        )
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_backup_and_restore_on_postgresql(  # type: ignore[no-untyped-def]
    lendflow,
    ops,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_databases: tuple[str, str],
) -> None:
    source, target = postgres_databases
    monkeypatch.setenv("LENDFLOW_DATABASE_URL", source)
    loan = fill(lendflow)
    out = tmp_path / "backup"
    made = lendflow(f"backup --out {out} --as admin --json")
    assert made.exit_code == 0, made.stderr
    assert "lendflow.pgdump" in made.json()["files"] and made.json()["database"] == "postgresql"
    monkeypatch.setenv("LENDFLOW_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("LENDFLOW_DATABASE_URL", target)
    restored = lendflow(f"restore {out}")
    assert restored.exit_code == 0, restored.stderr
    assert_restored(lendflow, loan)
    busy = lendflow(f"restore {out}")
    assert busy.exit_code == 2 and "already holds a workspace" in busy.error()
    forced = lendflow(f"restore {out} --force")
    assert forced.exit_code == 0, forced.stderr
    assert_restored(lendflow, loan)
