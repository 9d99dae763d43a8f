"""`lendflow key rotate`: a new workspace key, with every sealed value and look-up hash
moved to it in one transaction.

The order makes a crash at any moment recoverable by running the command again, and
leaves the workspace working with exactly one key: the new key is written beside the
old one first (`secret.key.new`), and a copy of the old one is kept
(`secret.key.old-<fingerprint>`); one transaction re-seals everything and records the
new fingerprint; only after the commit is the new key moved over `secret.key`. Before
the commit the database still names the old key, after it the new one, and
`Workspace.cipher` refuses whichever key file does not match, naming the fix.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from lendflow.access.permissions import Actor, Permission
from lendflow.customers.results import KeyRotation
from lendflow.customers.views import open_text
from lendflow.domain.errors import BadInput
from lendflow.store import events as event_store
from lendflow.store import keys as key_store
from lendflow.store.personal_data import (
    SECRET_BYTES,
    PersonalDataCipher,
    customer_row,
    decision_row,
    document_row,
    key_fingerprint,
    read_secret,
    require_private,
    row_ref,
)
from lendflow.store.uow import UnitOfWork, run_in_transaction
from lendflow.workspace.anchors import anchor_chain
from lendflow.workspace.context import (
    NEW_KEY_SUFFIX,
    Workspace,
    recorded_fingerprint,
)
from lendflow.workspace.faults import fault_point

OLD_KEY_PREFIX = ".old-"

Resealer = Callable[[PersonalDataCipher, PersonalDataCipher, Mapping[str, Any]], dict[str, Any]]


def rotate_key(ws: Workspace, actor: Actor, as_of: date) -> KeyRotation:
    """Move the workspace to a new key, or finish a rotation a crash interrupted.

    The event chain is re-keyed in the same transaction, so the trail verifies under the
    new key alone; its new head is anchored (dated `as_of`) once the key is installed,
    because anchors written before name the old key and are checked by event id only.
    """
    actor.require(Permission.MANAGE_KEYS, "rotate the workspace key")
    key_file = ws.settings.key_file
    pending = key_file.with_name(key_file.name + NEW_KEY_SUFFIX)
    require_private(key_file)
    old_secret = read_secret(key_file)
    old = key_fingerprint(old_secret)
    recorded = recorded_fingerprint(ws.settings)
    new_secret = _pending_secret(pending)
    if new_secret is not None and recorded == key_fingerprint(new_secret):
        _install(key_file, pending)  # the commit happened; only the files are left
        _anchor_new_chain(ws, new_secret, as_of)
        return KeyRotation(old_fingerprint=old, new_fingerprint=recorded, resumed=True)
    if recorded != old:
        ws.cipher  # noqa: B018 - refuses with the one line naming the fix
    resumed = new_secret is not None
    if new_secret is None:
        new_secret = secrets.token_bytes(SECRET_BYTES)
        _write_private(pending, new_secret)
    _write_private(key_file.with_name(f"{key_file.name}{OLD_KEY_PREFIX}{old[:16]}"), old_secret)
    new = key_fingerprint(new_secret)
    old_cipher = ws.cipher
    new_cipher = PersonalDataCipher.from_secret(new_secret)

    def use_case(uow: UnitOfWork) -> None:
        key_store.hold_sealed_tables(uow)
        for table, reseal in _RESEALERS.items():
            changes = [reseal(old_cipher, new_cipher, r) for r in key_store.sealed_rows(uow, table)]
            key_store.rewrite(uow, table, changes)
        event_store.rechain_events(uow, old_secret, new_secret)
        key_store.record_fingerprint(uow, new)
        fault_point("key_rotate.before_commit")

    run_in_transaction(ws.engine, use_case)
    fault_point("key_rotate.after_commit")
    ws.__dict__.pop("cipher", None)
    _install(key_file, pending)
    _anchor_new_chain(ws, new_secret, as_of)
    return KeyRotation(old_fingerprint=old, new_fingerprint=new, resumed=resumed)


def _anchor_new_chain(ws: Workspace, new_secret: bytes, as_of: date) -> None:
    """Writers in this process key events with the new secret from now on, and the
    re-keyed head is anchored outside the database."""
    event_store.register_chain_key(str(ws.engine.url), event_store.chain_key(new_secret))
    anchor_chain(ws, as_of)


def _pending_secret(pending: Path) -> bytes | None:
    if not pending.exists():
        return None
    require_private(pending)
    return read_secret(pending)


def _write_private(path: Path, secret: bytes) -> None:
    """Write a key file (mode 600) atomically and durably: a crash leaves it whole or absent."""
    if path.exists():
        return
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)


def _install(key_file: Path, pending: Path) -> None:
    """The new key becomes `secret.key`; the old key's copies go once that is durable."""
    os.replace(pending, key_file)
    _sync_folder(key_file.parent)
    for kept in key_file.parent.glob(f"{key_file.name}{OLD_KEY_PREFIX}*"):
        kept.unlink()


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _customer(
    old: PersonalDataCipher, new: PersonalDataCipher, row: Mapping[str, Any]
) -> dict[str, Any]:
    was = customer_row(row["id_hash"])
    name = old.decrypt(row["name_enc"], "name", was)
    national_id = old.decrypt(row["national_id_enc"], "national_id", was)
    phone = old.decrypt(row["phone_enc"], "phone", was)
    id_hash = new.lookup_hash(national_id, "national_id")
    now = customer_row(id_hash)
    return {
        "old_id": row["id"],
        "name_enc": new.encrypt(name, "name", now),
        "national_id_enc": new.encrypt(national_id, "national_id", now),
        "phone_enc": new.encrypt(phone, "phone", now),
        "id_hash": id_hash,
        "phone_hash": new.lookup_hash(phone, "phone"),
    }


def _blocked(
    old: PersonalDataCipher, new: PersonalDataCipher, row: Mapping[str, Any]
) -> dict[str, Any]:
    was = row_ref("blocklist", row["id_hash"])
    if row["national_id_enc"] is None:
        raise BadInput(
            f"blocklist entry {row['id_hash'][:16]} predates sealed national IDs, so its"
            " look-up hash cannot be moved to a new key: remove it and add it again first"
        )
    national_id = old.decrypt(row["national_id_enc"], "national_id", was)
    id_hash = new.lookup_hash(national_id, "national_id")
    now = row_ref("blocklist", id_hash)
    note = open_text(row["note"], "note", was, old)
    return {
        "old_id_hash": row["id_hash"],
        "id_hash": id_hash,
        "national_id_enc": new.encrypt(national_id, "national_id", now),
        "note": None if note is None else new.encrypt(note, "note", now),
    }


def _related(
    old: PersonalDataCipher, new: PersonalDataCipher, row: Mapping[str, Any]
) -> dict[str, Any]:
    national_id = old.decrypt(
        row["national_id_enc"], "national_id", row_ref("related_parties", row["id_hash"])
    )
    id_hash = new.lookup_hash(national_id, "national_id")
    sealed = new.encrypt(national_id, "national_id", row_ref("related_parties", id_hash))
    return {"old_id": row["id"], "id_hash": id_hash, "national_id_enc": sealed}


def _texts(fields: Mapping[str, str], bound: Callable[[Mapping[str, Any]], str]) -> Resealer:
    """Re-seal a row's free-text columns (`fields`: column -> field name), sealing any
    text kept in clear from before free text was sealed."""

    def reseal(
        old: PersonalDataCipher, new: PersonalDataCipher, row: Mapping[str, Any]
    ) -> dict[str, Any]:
        at = bound(row)
        change: dict[str, Any] = {"old_id": row["id"]}
        for column, field in fields.items():
            text = open_text(row[column], field, at, old)
            change[column] = None if text is None else new.encrypt(text, field, at)
        return change

    return reseal


_RESEALERS: dict[str, Resealer] = {
    "customers": _customer,
    "blocklist": _blocked,
    "documents": _texts(
        {"content_enc": "document"},
        lambda r: document_row(r["loan_id"], r["kind"], r["business_date"]),
    ),
    "tickets": _texts(
        {"subject": "subject", "details_enc": "ticket", "resolution": "resolution"},
        lambda r: row_ref("tickets", r["id"]),
    ),
    "loans": _texts({"decision_note": "decision_note"}, lambda r: row_ref("loans", r["id"])),
    "credit_decisions": _texts({"note": "note"}, lambda r: decision_row(r["loan_id"])),
    "related_parties": _related,
}
