"""What each loan action writes, counted in pages of SQLite's log (`benchmarks.bench_pages`).

Pages, unlike seconds, are the same on every run: an index that a write maintains for no
read shows here as a page more for every action that touches it.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest

from benchmarks.bench_pages import measure


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Counter[str]]:
    """Counted once for the module, in a home of its own and on the tests' fixed real
    date (the function-scoped `isolated_environment` comes after a module's fixtures)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LENDFLOW_HOME", str(tmp_path_factory.mktemp("pages")))
        patch.setenv("LENDFLOW_TODAY", "2027-12-31")
        try:
            return measure(book=20, batch=5)
        except sqlite3.OperationalError as exc:  # pragma: no cover - a SQLite without dbstat
            pytest.skip(f"SQLite's dbstat table is needed: {exc}")


def test_a_review_writes_its_loan_its_status_entry_and_its_event_alone(
    pages: dict[str, Counter[str]],
) -> None:
    assert set(pages["review"]) == {
        "loans",
        "ix_loans_state",
        "events",
        "ix_events_entity_id",
        "event_chain",
    }


def test_a_payout_writes_its_instalments_into_the_one_date_index_the_night_reads(
    pages: dict[str, Counter[str]],
) -> None:
    written = {name for name in pages["disburse"] if name.startswith("ix_instalments")}
    assert written == {"ix_instalments_unrecognised"}


@pytest.mark.parametrize("action", ["disburse", "repay"])
def test_a_posting_that_reverses_nothing_writes_nothing_of_the_reversals_index(
    pages: dict[str, Counter[str]], action: str
) -> None:
    assert "ix_journal_entries_reversal_of" not in pages[action]
    assert pages[action]["journal_entries"] >= 5  # it did post, once per loan at least
