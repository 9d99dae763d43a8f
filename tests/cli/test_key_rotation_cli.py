"""`lendflow key rotate`: everything sealed moves to a new key, and a crash at any point
is finished by running the command again, with the workspace working on one key."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")
BLOCKED_ID = sample_national_id(date(1988, 3, 2), 515)
ID = sample_national_id(date(1990, 5, 17), 322)
OTHER_ID = sample_national_id(date(1985, 8, 9), 140)
NOTE = "收入由其雇主李雷电话确认"


@pytest.fixture
def book(lendflow, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A book with everything that is sealed: customers, a blocked person, a decision
    note, a contract, a ticket (on the test's `database_url` when it asks for one)."""
    if "database_url" in request.fixturenames:
        monkeypatch.setenv("LENDFLOW_DATABASE_URL", request.getfixturevalue("database_url"))
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    imported = lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05")
    assert imported.exit_code == 0, imported.stderr
    loan = apply(lendflow, ID, "王五").stdout.strip()
    assert apply(lendflow, OTHER_ID, "赵六").exit_code == 0
    assert lendflow(f"loan review {loan} --on 2026-01-10").exit_code == 0
    approved = lendflow(f"loan approve {loan} --as risk --note '{NOTE}' --on 2026-01-11")
    assert approved.exit_code == 0, approved.stderr
    assert lendflow(f"loan disburse {loan} --on 2026-01-12").exit_code == 0
    blocked = lendflow(
        f"blocklist add --national-id {BLOCKED_ID} --reason FRAUD_CONFIRMED --note 冒名 --as risk"
    )
    assert blocked.exit_code == 0, blocked.stderr
    ticket = lendflow(f"ticket open complaint --subject 催收电话太多 --loan {loan} --on 2026-01-13")
    assert ticket.exit_code == 0, ticket.stderr
    return lendflow


def apply(lendflow, national_id: str, name: str, on: str = "2026-01-10"):  # type: ignore[no-untyped-def]
    return lendflow(
        f"loan apply --consent all --product cash-easy --name {name} --id-number {national_id}"
        f" --phone 13812345678 --monthly-income 8000 --amount 10000 --term 3 --on {on}"
    )


def assert_book_reads_and_checks(lendflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """What staff check after a rotation: people, notes, the contract, tickets, the
    blocklist and duplicate checks (look-up hashes), and the audit."""
    shown = lendflow("loan show 1 --as admin --on 2026-01-13 --json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["customer"]["name"] == "王五"
    assert shown.json()["credit_decisions"][-1]["note"] == NOTE
    assert lendflow("loan show 2 --as admin --on 2026-01-13 --json").json()["customer"]["name"] == (
        "赵六"
    )
    contract = lendflow(f"docs get 1 --out {tmp_path / 'contract.pdf'} --as admin")
    assert contract.exit_code == 0, contract.stderr
    tickets = lendflow("ticket list --on 2026-01-13 --json").json()
    assert tickets[0]["subject"] == "催收电话太多"
    assert lendflow("blocklist list --as risk --json").json()[0]["note"] == "冒名"
    impostor = apply(lendflow, ID, "李四", on="2026-01-13")
    assert impostor.exit_code == 1 and "name does not match" in impostor.stderr
    blocked = apply(lendflow, BLOCKED_ID, "钱七", on="2026-01-13")
    assert blocked.exit_code == 0, blocked.stderr
    monkeypatch.setenv("LENDFLOW_DECISIONING", "automated")
    review = lendflow(f"loan review {blocked.stdout.strip()} --on 2026-01-13")
    assert review.exit_code == 0, review.stderr
    shown = lendflow(f"loan show {blocked.stdout.strip()} --on 2026-01-13 --json").json()
    assert (shown["state"], shown["reason_code"]) == ("rejected", "BLOCKLISTED")
    audit = lendflow("audit verify --as auditor")
    assert audit.exit_code == 0 and audit.stdout.startswith("OK: "), audit.stdout


def key_files(home: Path) -> list[str]:
    return sorted(p.name for p in home.glob("secret.key*"))


def test_rotate_moves_everything_to_a_new_key(  # type: ignore[no-untyped-def]
    database_url: str,
    book,
    isolated_environment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = isolated_environment / "secret.key"
    before = key.read_text()
    refused = book("key rotate --as ops")
    assert refused.exit_code == 1 and "may not rotate the workspace key" in refused.error()
    rotated = book("key rotate --as admin --json")
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.json()["resumed"] is False
    assert key.read_text() != before and key.stat().st_mode & 0o777 == 0o600
    assert key_files(isolated_environment) == ["secret.key"]
    assert_book_reads_and_checks(book, tmp_path, monkeypatch)
    old = tmp_path / "old.key"
    old.write_text(before)
    old.chmod(0o600)
    key.rename(tmp_path / "new.key")
    old.rename(key)
    monkeypatch.setenv("LENDFLOW_DECISIONING", "manual")
    stale = book("loan show 1 --on 2026-01-13")
    assert stale.exit_code == 2 and "not the key this database was sealed with" in stale.error()


def run_killed_at(point: str) -> subprocess.CompletedProcess[str]:
    root = str(Path(sys.modules["lendflow"].__file__ or "").resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
        "LENDFLOW_FAULT": point,
    }
    return subprocess.run(
        [sys.executable, "-c", "from lendflow.cli import main; main()", "key", "rotate"],
        env={**env, "LENDFLOW_USER": "admin"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("point", "works_before_rerun"),
    [("key_rotate.before_commit", True), ("key_rotate.after_commit", False)],
)
def test_a_rotation_killed_midway_is_finished_by_running_it_again(  # type: ignore[no-untyped-def]
    book,
    isolated_environment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    point: str,
    works_before_rerun: bool,
) -> None:
    key = isolated_environment / "secret.key"
    before = key.read_text()
    killed = run_killed_at(point)
    assert killed.returncode == 137, killed.stderr
    assert key.read_text() == before  # the key file is only replaced after the commit
    assert "secret.key.new" in key_files(isolated_environment)
    shown = book("loan show 1 --as admin --on 2026-01-13 --json")
    if works_before_rerun:  # nothing was committed: the old key still opens everything
        assert shown.exit_code == 0 and shown.json()["customer"]["name"] == "王五"
    else:  # the database names the new key: the old one is refused, naming the fix
        assert shown.exit_code == 2
        assert "run `lendflow key rotate` to finish it" in shown.error()
    finished = book("key rotate --as admin --json")
    assert finished.exit_code == 0, finished.stderr
    assert finished.json()["resumed"] is True
    assert key.read_text() != before
    assert key_files(isolated_environment) == ["secret.key"]
    assert_book_reads_and_checks(book, tmp_path, monkeypatch)


def test_rotation_rekeys_the_event_chain_and_anchors_its_new_head(  # type: ignore[no-untyped-def]
    book, isolated_environment: Path
) -> None:
    before = book("audit anchor --as auditor --on 2026-01-13 --json").json()
    assert book("key rotate --as admin --on 2026-01-13").exit_code == 0
    anchors = (isolated_environment / "audit-anchors.log").read_text().splitlines()
    assert len(anchors) == 2
    rekeyed = anchors[-1].split("\t")
    assert rekeyed[0] == str(before["event_id"]) and rekeyed[1] != before["hash"]
    assert book("loan review 2 --on 2026-01-13").exit_code == 0
    audit = book("audit verify --as auditor --json")
    assert audit.exit_code == 0, audit.stdout
    assert audit.json()["ok"] is True and audit.json()["anchors_checked"] == 2


def test_init_records_the_fingerprint_of_a_workspace_sealed_before_fingerprints(  # type: ignore[no-untyped-def]
    book, isolated_environment: Path
) -> None:
    import sqlite3

    database = sqlite3.connect(isolated_environment / "lendflow.db")
    database.execute("DELETE FROM workspace_keys")
    database.commit()
    unrecorded = book("loan show 1 --on 2026-01-13")
    assert unrecorded.exit_code == 2 and "run `lendflow init`" in unrecorded.error()
    key = isolated_environment / "secret.key"
    kept = key.read_text()
    key.write_text("ab" * 32 + "\n")
    wrong = book("init")
    assert (
        wrong.exit_code == 2 and "does not open the personal data already stored" in wrong.error()
    )
    key.write_text(kept)
    assert book("init").exit_code == 0
    assert (
        book("loan show 1 --as admin --on 2026-01-13 --json").json()["customer"]["name"] == "王五"
    )
