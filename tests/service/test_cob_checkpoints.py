"""A large close of business leaves SQLite's checkpoints to a thread beside it.

Two loans of 10,000.00 are closed through a month in a range of 10,000 ids (large enough
to defer its checkpoints). What an operator relies on: the database file itself, read
without its write-ahead log, holds the last night once the run is settled; every pooled
connection checkpoints again afterwards; and a database gone meanwhile never hangs a run.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.store import checkpoints
from tests.service.test_cob_golden import open_loan

CONFIG = load_cob_config().model_copy(update={"render_notices": False})


def _file_alone(path: str) -> sqlite3.Connection:
    """The database file as it stands, its write-ahead log ignored."""
    return sqlite3.connect(f"file:{path}?immutable=1", uri=True)


def test_the_database_file_holds_the_last_night_once_the_run_is_settled(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    if ws.engine.dialect.name != "sqlite":
        pytest.skip("write-ahead log checkpoints are SQLite's")
    loan_ids = [open_loan(ws, ops, risk, applicant) for _ in range(2)]
    assert cob.WARM_FROM <= 10_000
    cob.close_range(ws, 1, 10_000, date(2026, 1, 13), date(2026, 2, 13), "cob", CONFIG)
    checkpoints.settle(ws.engine)
    # a quiet loan's night is in its range's mark (`store.cob_marks`)
    night = (
        "SELECT l.id, CASE WHEN l.follows_from IS NULL THEN l.cob_through ELSE m.through END,"
        " l.dpd, l.interest_accrued, l.principal_days, l.follows_from FROM loans l"
        " LEFT JOIN cob_marks m ON m.lo <= l.id AND m.hi >= l.id ORDER BY l.id"
    )
    file_alone = _file_alone(str(ws.engine.url.database))
    try:
        in_the_file = file_alone.execute(night).fetchall()
    finally:
        file_alone.close()
    assert [row[:2] for row in in_the_file] == [(loan_id, "2026-02-13") for loan_id in loan_ids]
    with ws.engine.connect() as c:
        assert in_the_file == [tuple(row) for row in c.exec_driver_sql(night)]


def test_every_pooled_connection_checkpoints_again_after_a_large_chunk(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    if ws.engine.dialect.name != "sqlite":
        pytest.skip("write-ahead log checkpoints are SQLite's")
    open_loan(ws, ops, risk, applicant)
    cob.close_range(ws, 1, 10_000, date(2026, 1, 13), date(2026, 1, 20), "cob", CONFIG)
    held = [ws.engine.raw_connection() for _ in range(3)]  # the chunk's one among them
    try:
        pages = {c.execute("PRAGMA wal_autocheckpoint").fetchone()[0] for c in held}
    finally:
        for c in held:
            c.close()
    assert pages == {checkpoints.AUTOMATIC_PAGES}


def test_a_database_gone_meanwhile_never_hangs_the_run(tmp_path: Path) -> None:
    path = tmp_path / "gone" / "lendflow.db"
    checkpointer = checkpoints._Checkpointer(str(path))  # its folder does not exist
    checkpointer.request()
    checkpointer.settle()  # returns: the thread gave up on the file
    assert not checkpointer.pending
