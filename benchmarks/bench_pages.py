"""The pages each loan action writes to SQLite's log, by table and index.

Timings on a shared machine swing by a fifth from one run to the next; what an action
writes does not. SQLite's commit appends every page the transaction changed to the
write-ahead log, so the log after a batch of actions, read frame by frame and each page
named through SQLite's `dbstat` table, is what those actions cost in writes: an index
no query reads, or one keyed at random, shows as pages here whatever the machine's mood.
The book first lends `BOOK` loans through every action, so its indexes have the depth of
a small book; then `BATCH` more loans go through each action in turn, with the automatic
checkpoint off so the log keeps every page, and the pages are given per action (a payout
is two transactions: the payout recorded, then the loan activated with its contract).
"""

from __future__ import annotations

import sqlite3
import struct
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.bench_loan_actions import people
from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.loans import applications, disbursement, repayments
from lendflow.products import catalogue as products

BOOK = 300
BATCH = 20
ACTIONS = ("apply", "review", "approve", "disburse", "repay")
_HEADER, _FRAME_HEADER = 32, 24


def log_pages(database: Path) -> list[int]:
    """The page number of each frame in the database's write-ahead log, in order."""
    log = Path(f"{database}-wal")
    data = log.read_bytes() if log.exists() else b""
    if len(data) < _HEADER:
        return []
    page_size = struct.unpack(">I", data[8:12])[0]
    found = []
    for at in range(_HEADER, len(data) - _FRAME_HEADER - page_size + 1, _FRAME_HEADER + page_size):
        found.append(struct.unpack(">I", data[at : at + 4])[0])
    return found


def pages_written(database: Path, action: Callable[[], Any]) -> Counter[str]:
    """The pages `action` wrote to the log, counted by the table or index that owns them."""
    side = sqlite3.connect(database)
    try:
        busy, _, _ = side.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:  # the log kept older pages: they would be counted as the action's
            raise RuntimeError("the write-ahead log could not be emptied before counting")
        action()
        owners = dict(side.execute("SELECT pageno, name FROM dbstat").fetchall())
    finally:
        side.close()
    return Counter(owners.get(page, "(free)") for page in log_pages(database))


def measure(book: int = BOOK, batch: int = BATCH) -> dict[str, Counter[str]]:
    """The pages each action wrote for `batch` loans, on a workspace that has lent `book`."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(home=Path(folder), decisioning="manual")
        init_workspace(settings)
        ws = open_workspace(settings)
        try:
            admin, ops, risk = ws.actor("admin"), ws.actor("ops"), ws.actor("risk")
            products.import_product(
                ws, admin, example_product_paths()[0], activate=True, as_of=date(2026, 1, 5)
            )
            steps: dict[str, Callable[[Any], Any]] = {
                "apply": lambda p: applications.apply(ws, ops, p, date(2026, 1, 10)).id,
                "review": lambda i: applications.start_review(ws, ops, i, date(2026, 1, 10)),
                "approve": lambda i: applications.approve(ws, risk, i, date(2026, 1, 11)),
                "disburse": lambda i: disbursement.disburse(ws, ops, i, date(2026, 1, 12)),
                "repay": lambda i: repayments.repay(
                    ws, ops, i, 100_000, date(2026, 2, 12), f"pages-{i}"
                ),
            }
            applicants = people(book + batch)
            ids = [steps["apply"](person) for person in applicants[:book]]
            for action in ACTIONS[1:]:
                for loan_id in ids:
                    steps[action](loan_id)
            _keep_the_log(ws.engine)
            database = Path(folder) / "lendflow.db"
            counted: dict[str, Counter[str]] = {}
            counted["apply"] = pages_written(
                database, lambda: ids.extend(steps["apply"](p) for p in applicants[book:])
            )
            for action in ACTIONS[1:]:
                counted[action] = pages_written(
                    database, lambda a=action: [steps[a](loan_id) for loan_id in ids[book:]]
                )
            return counted
        finally:
            ws.close()


def _keep_the_log(engine: Any) -> None:
    """No automatic checkpoint from here on: the log keeps every page the batch writes."""
    engine.dispose()
    event.listen(
        engine,
        "connect",
        lambda connection, _record: connection.execute("PRAGMA wal_autocheckpoint = 0"),
    )


def run() -> bool:
    try:
        counted = measure()
    except sqlite3.OperationalError as exc:  # a SQLite built without dbstat
        print(f"pages per loan action: skipped ({exc})")
        return True
    for action, pages in counted.items():
        most = ", ".join(f"{name} {n / BATCH:.1f}" for name, n in pages.most_common(5))
        print(
            f"pages written to SQLite's log per {action}: {sum(pages.values()) / BATCH:.1f}"
            f" (mean of {BATCH}; most: {most})"
        )
    return True


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
