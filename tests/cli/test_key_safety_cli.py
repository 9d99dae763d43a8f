"""Issue 14: the workspace key is never silently replaced, a wrong or exposed key is
refused by every command, and free text a person typed is sealed like a name."""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")
BLOCKED_ID = sample_national_id(date(1988, 3, 2), 515)
ID = sample_national_id(date(1990, 5, 17), 322)


@pytest.fixture
def desk(lendflow, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    imported = lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05")
    assert imported.exit_code == 0, imported.stderr
    return lendflow


def apply(desk, national_id: str, name: str = "王五"):  # type: ignore[no-untyped-def]
    return desk(
        f"loan apply --consent all --product cash-easy --name {name} --id-number {national_id}"
        " --phone 13812345678 --monthly-income 8000 --amount 10000 --term 3 --on 2026-01-10"
    )


def write_key(path: Path) -> None:
    path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
    path.chmod(0o600)


def test_init_never_writes_a_new_key_over_sealed_data(desk, isolated_environment: Path) -> None:  # type: ignore[no-untyped-def]
    applied = apply(desk, ID)
    assert applied.exit_code == 0, applied.stderr
    key = isolated_environment / "secret.key"
    kept = key.read_bytes()
    key.rename(isolated_environment / "moved.key")
    missing = desk(f"loan show {applied.stdout.strip()} --on 2026-01-10")
    assert missing.exit_code == 2
    assert missing.error().endswith(
        "secret.key is missing: restore it from backup, or `lendflow restore DIR`"
    )
    again = desk("init")
    assert again.exit_code == 2
    assert "secret.key is missing" in again.error() and "restore" in again.error()
    assert not key.exists()
    key.write_bytes(kept)
    key.chmod(0o600)
    shown = desk(f"loan show {applied.stdout.strip()} --as admin --on 2026-01-10 --json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["customer"]["name"] == "王五"


def test_another_key_is_refused_before_it_seals_or_looks_up_anything(
    desk, isolated_environment: Path
) -> None:  # type: ignore[no-untyped-def]
    assert apply(desk, ID).exit_code == 0
    blocked = desk(f"blocklist add --national-id {BLOCKED_ID} --reason FRAUD_CONFIRMED --as risk")
    assert blocked.exit_code == 0, blocked.stderr
    write_key(isolated_environment / "secret.key")
    for command in [
        f"loan apply --consent all --product cash-easy --name 钱七 --id-number {BLOCKED_ID}"
        " --phone 13812345678"
        " --monthly-income 8000 --amount 10000 --term 3 --on 2026-01-11",
        f"loan apply --consent all --product cash-easy --name 另一人 --id-number {ID}"
        " --phone 13812345678"
        " --monthly-income 8000 --amount 10000 --term 3 --on 2026-01-11",
        "loan show 1 --on 2026-01-11",
        "audit verify --as auditor",
        "ticket list --on 2026-01-11",
        "init",
    ]:
        refused = desk(command)
        assert refused.exit_code == 2, command
        assert "is not the key this database was sealed with" in refused.error(), command
    assert "lendflow restore" in refused.error()
    assert sqlite3.connect(isolated_environment / "lendflow.db").execute(
        "SELECT count(*) FROM loans"
    ).fetchone() == (1,)


def test_a_key_file_others_may_read_is_refused_by_every_command(
    desk, isolated_environment: Path
) -> None:  # type: ignore[no-untyped-def]
    applied = apply(desk, ID)
    (isolated_environment / "secret.key").chmod(0o644)
    for command in [
        f"loan show {applied.stdout.strip()} --on 2026-01-10",
        "audit verify --as auditor",
        "ticket list --on 2026-01-10",
        f"loan review {applied.stdout.strip()} --on 2026-01-10",
    ]:
        refused = desk(command)
        assert refused.exit_code == 2, command
        assert refused.error().endswith("chmod 600 it"), command


def test_notes_and_ticket_text_are_sealed_and_events_only_point_to_them(
    desk, isolated_environment: Path
) -> None:  # type: ignore[no-untyped-def]
    loan = apply(desk, ID).stdout.strip()
    assert desk(f"loan review {loan} --on 2026-01-10").exit_code == 0
    note = "收入由其雇主李雷电话确认"
    approved = desk(f"loan approve {loan} --as risk --note '{note}' --on 2026-01-11")
    assert approved.exit_code == 0, approved.stderr
    subject = "客户韩梅梅投诉催收电话"
    opened = desk(f"ticket open complaint --subject '{subject}' --loan {loan} --on 2026-01-12")
    assert opened.exit_code == 0, opened.stderr
    blocked = desk(
        f"blocklist add --national-id {BLOCKED_ID} --reason FRAUD_CONFIRMED"
        " --note '冒用他人身份证' --as risk"
    )
    assert blocked.exit_code == 0, blocked.stderr

    database = sqlite3.connect(isolated_environment / "lendflow.db")
    dump = "\n".join(
        repr(row)
        for (table,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for row in database.execute(f'SELECT * FROM "{table}"')
    )
    for typed in [note, subject, "冒用他人身份证", BLOCKED_ID]:
        assert typed not in dump
    payloads = [
        json.loads(p)
        for (p,) in database.execute("SELECT payload FROM events WHERE name = 'LoanApproved'")
    ]
    assert payloads[0]["note_ref"] == f"loans:{loan}:decision_note"
    assert "note" not in payloads[0]

    seen_by_admin = desk(f"loan show {loan} --as admin --on 2026-01-12 --json").json()
    assert seen_by_admin["credit_decisions"][-1]["note"] == note
    seen_by_ops = desk(f"loan show {loan} --on 2026-01-12 --json").json()
    assert seen_by_ops["credit_decisions"][-1]["note"] == "(withheld)"
    tickets = desk("ticket list --on 2026-01-12 --json").json()
    assert tickets[0]["subject"] == subject  # ops serve customers: they read the ticket
    withheld = desk("ticket list --as auditor --on 2026-01-12 --json").json()
    assert withheld[0]["subject"] == "(withheld)"
    listed = desk("blocklist list --as risk --json").json()
    assert listed[0]["note"] == "冒用他人身份证"


def test_a_name_swapped_onto_another_customers_row_does_not_open(
    desk, isolated_environment: Path
) -> None:  # type: ignore[no-untyped-def]
    first = apply(desk, ID, "王五").stdout.strip()
    assert apply(desk, BLOCKED_ID, "赵六").exit_code == 0
    database = sqlite3.connect(isolated_environment / "lendflow.db")
    (one,), (two,) = database.execute("SELECT name_enc FROM customers ORDER BY id").fetchall()
    database.execute("UPDATE customers SET name_enc = ? WHERE id = 1", (two,))
    database.execute("UPDATE customers SET name_enc = ? WHERE id = 2", (one,))
    database.commit()
    shown = desk(f"loan show {first} --as admin --on 2026-01-10")
    assert shown.exit_code == 2
    assert (
        shown.error() == "error: personal data could not be decrypted: wrong key or tampered record"
    )
