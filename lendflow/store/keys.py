"""Which key sealed the database, and every sealed value, for a key rotation.

The database keeps the fingerprint of the workspace key (`workspace_keys`), never
the key: opening it with another key file is refused before anything is sealed
or looked up under the wrong key. A rotation reads every sealed value and every
look-up hash here, and writes them back re-sealed in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, inspect, select, text, update

from lendflow.store.tables import (
    blocklist,
    credit_decisions,
    customers,
    documents,
    loans,
    related_parties,
    tickets,
    utc_now,
    workspace_keys,
)
from lendflow.store.uow import UnitOfWork

CURRENT = "current"
RETIRED = "retired"

# Every column that holds a sealed value, by table, with the columns that name its row.
SEALED_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customers": (("id", "id_hash", "phone_hash"), ("name_enc", "national_id_enc", "phone_enc")),
    "blocklist": (("id_hash",), ("national_id_enc", "note")),
    "documents": (("id", "loan_id", "kind", "business_date"), ("content_enc",)),
    "tickets": (("id",), ("subject", "details_enc", "resolution")),
    "loans": (("id",), ("decision_note",)),
    "credit_decisions": (("id", "loan_id"), ("note",)),
    "related_parties": (("id", "id_hash"), ("national_id_enc",)),
}
_TABLES = {
    "customers": customers,
    "blocklist": blocklist,
    "documents": documents,
    "tickets": tickets,
    "loans": loans,
    "credit_decisions": credit_decisions,
    "related_parties": related_parties,
}
_KEYS = {"customers": "id", "blocklist": "id_hash", "documents": "id", "tickets": "id"}
_KEYS |= {"loans": "id", "credit_decisions": "id", "related_parties": "id"}
# Tables whose rows hold personal data: any row in one means a key sealed this database.
_PERSONAL = ("customers", "blocklist", "documents", "tickets", "related_parties")


def current_fingerprint(uow: UnitOfWork) -> str | None:
    found = uow.connection.execute(
        select(workspace_keys.c.fingerprint).where(workspace_keys.c.state == CURRENT)
    ).scalar()
    return str(found) if found is not None else None


def record_fingerprint(uow: UnitOfWork, fingerprint: str) -> None:
    """Make `fingerprint` the current key's, retiring the one before it."""
    uow.connection.execute(
        update(workspace_keys).where(workspace_keys.c.state == CURRENT).values(state=RETIRED)
    )
    known = uow.connection.execute(
        select(workspace_keys.c.fingerprint).where(workspace_keys.c.fingerprint == fingerprint)
    ).scalar()
    if known is None:
        uow.connection.execute(
            insert(workspace_keys),
            {"fingerprint": fingerprint, "state": CURRENT, "created_at": utc_now()},
        )
    else:
        uow.connection.execute(
            update(workspace_keys)
            .where(workspace_keys.c.fingerprint == fingerprint)
            .values(state=CURRENT)
        )


def sealed_state(engine: Engine) -> tuple[str | None, bool]:
    """(the recorded fingerprint, whether any personal data is stored) of a database at
    any schema, or (None, False) for one that was never migrated."""
    names = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        fingerprint = None
        if "workspace_keys" in names:
            fingerprint = connection.execute(
                select(workspace_keys.c.fingerprint).where(workspace_keys.c.state == CURRENT)
            ).scalar()
        holds = any(
            connection.execute(select(func.count()).select_from(_TABLES[name])).scalar()
            for name in _PERSONAL
            if name in names
        )
    return (str(fingerprint) if fingerprint else None), bool(holds)


def first_sealed_customer(engine: Engine) -> dict[str, Any] | None:
    """One customer row, to prove a key opens what is already stored."""
    with engine.connect() as connection:
        row = connection.execute(select(customers).limit(1)).mappings().first()
    return dict(row) if row is not None else None


def hold_sealed_tables(uow: UnitOfWork) -> None:
    """Keep other writers out of every table with sealed values until this transaction
    ends, so nothing is sealed under the old key while a rotation re-seals the rest.
    SQLite's BEGIN IMMEDIATE already holds the one write lock there."""
    if uow.dialect == "postgresql":
        names = ", ".join(f'"{t}"' for t in SEALED_COLUMNS)
        uow.connection.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))


def sealed_rows(uow: UnitOfWork, table: str) -> list[dict[str, Any]]:
    """Every row of `table` with the columns that name it and its sealed columns."""
    names, sealed = SEALED_COLUMNS[table]
    source = _TABLES[table]
    columns = [source.c[n] for n in (*names, *sealed)]
    query = select(*columns).order_by(source.c[_KEYS[table]])
    return [dict(r) for r in uow.connection.execute(query).mappings()]


def rewrite(uow: UnitOfWork, table: str, changes: Sequence[Mapping[str, Any]]) -> None:
    """Write re-sealed values back in one batch; each change names its row by the
    table's key as `old_<key>` (a customer's or blocked person's look-up hash changes)."""
    if not changes:
        return
    source = _TABLES[table]
    key = _KEYS[table]
    columns = [c for c in changes[0] if c != f"old_{key}"]
    statement = (
        update(source)
        .where(source.c[key] == bindparam("b_old_key"))
        .values({c: bindparam(f"b_{c}") for c in columns})
    )
    uow.connection.execute(
        statement,
        [{"b_old_key": ch[f"old_{key}"], **{f"b_{c}": ch[c] for c in columns}} for ch in changes],
    )


def holds_tables(url: str) -> bool:
    """Whether the database at `url` has any table: a restore must not overwrite it
    unless told to."""
    from lendflow.store.engine import make_engine

    engine = make_engine(url)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()
