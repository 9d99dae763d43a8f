"""Random arguments through every kind of command on a workspace with a live book: never a
traceback, every error one line, and a refused command leaves the database as it was."""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from lendflow.cli import app
from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id
from tests.digest import Digest
from tests.fuzz.fuzzing import fuzz_settings

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")

IDS = st.one_of(
    st.integers(-3, 4),
    st.integers(2**31 - 3, 2**31 + 3),
    st.integers(-(10**25), 10**25),
).map(str)
AMOUNTS = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1e5",
            "100",
            "100000000",
            "100000000.01",
            "1,000.50",
            "0.001",
            "NaN",
            "99999999999999999999",
            "+5",
            "1.5.5",
            "０",
        ]
    ),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.integers(0, 10**16).map(str),
)
DATES = st.one_of(
    st.dates(date(1900, 1, 1), date(9999, 12, 31)).map(date.isoformat),
    st.dates(date(2026, 1, 1), date(2026, 12, 31)).map(date.isoformat),
    st.sampled_from(["2026-02-30", "0000-00-00", "2026-13-01", "20260101", "2026-1-1"]),
)
TEXTS = st.one_of(st.text(max_size=40), st.text(min_size=190, max_size=2100), st.just("x" * 3000))
KEYS = st.one_of(st.text(string.printable, max_size=130), st.text(min_size=100, max_size=300))
CODES = st.one_of(
    st.sampled_from(["cash-easy", "sme-growth", "anxin", "charter", "loan", "consumer-v1"]),
    st.text(max_size=80),
)
COUNTS = st.one_of(st.integers(-5, 1300), st.integers(-(10**12), 10**12)).map(str)
SLOTS = {"ID": IDS, "AMOUNT": AMOUNTS, "DATE": DATES, "TEXT": TEXTS, "KEY": KEYS,
         "CODE": CODES, "INT": COUNTS}  # fmt: skip

COMMANDS = [
    "loan show ID --on DATE",
    "loan approve ID --amount AMOUNT --note TEXT --as risk --on DATE",
    "loan reject ID --reason CODE --note TEXT --as risk --on DATE",
    "loan withdraw ID --note TEXT --on DATE",
    "loan review ID --on DATE",
    "loan repay ID --amount AMOUNT --on DATE --idempotency-key KEY",
    "loan disburse ID --idempotency-key KEY --on DATE",
    "loan quote ID --on DATE",
    "loan schedule ID",
    "loan events ID",
    "loan list --product CODE --state CODE --limit INT",
    "loan apply --product CODE --name TEXT --id-number CODE --phone CODE --monthly-income AMOUNT"
    " --amount AMOUNT --term INT --purpose CODE --on DATE",
    "calc schedule --principal AMOUNT --annual-rate AMOUNT --repayments INT --disbursed DATE"
    " --every INT --upfront-fee AMOUNT",
    "ticket open CODE --subject TEXT --loan ID --details TEXT --on DATE",
    "ticket resolve ID --resolution TEXT --on DATE",
    "ticket list --product CODE --on DATE",
    "docs list --loan ID",
    "kpi show CODE --as-of DATE --version ID",
    "product show CODE --version ID",
    "product versions CODE",
    "product diff CODE ID ID",
    "product create CODE --name TEXT --as pm --on DATE",
    "gate show CODE",
    "gate decide CODE CODE --decision go --note TEXT --as committee1 --on DATE",
    "stage show CODE CODE --as pm",
    "queue list --product CODE --limit INT --on DATE --as risk",
    "blocklist add --national-id CODE --reason CODE --note TEXT --as risk --on DATE",
    "decisions compare --product CODE --from DATE --to DATE --as risk",
    "scorecard show CODE",
    "machine show CODE",
    "audit verify --as auditor",
    "loan show ID --as CODE",
]


@st.composite
def commands(draw: st.DrawFn) -> list[str]:
    """A command with each slot filled at random; sometimes a word dropped or doubled."""
    argv = [draw(SLOTS[w]) if w in SLOTS else w for w in draw(st.sampled_from(COMMANDS)).split()]
    if draw(st.booleans()) and len(argv) > 2:
        at = draw(st.integers(2, len(argv) - 1))
        argv.insert(at, argv[at]) if draw(st.booleans()) else argv.pop(at)
    return argv


@st.composite
def junk(draw: st.DrawFn) -> list[str]:
    """A real command followed by random words (no paths: nothing may be written outside)."""
    head = draw(st.sampled_from(COMMANDS)).split()[:2]
    words = st.text(max_size=30).filter(lambda w: "/" not in w and ".." not in w)
    return head + draw(st.lists(words, max_size=6))


@pytest.fixture
def book(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[CliRunner, Digest]]:
    """A workspace with cash-easy live and loan 1 disbursed; commands run in a folder of
    their own, as the operator unless --as says."""
    monkeypatch.setenv("LENDFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    national_id = sample_national_id(date(1990, 5, 17), 321)
    for command in (
        ["init"],
        ["product", "import", str(CASH_EASY), "--activate", "--as", "admin", "--on", "2026-01-05"],
        [
            "loan",
            "apply",
            "--consent",
            "all",
            "--product",
            "cash-easy",
            "--name",
            "王五",
            "--id-number",
            national_id,
            "--phone",
            "13812345678",
            "--monthly-income",
            "8000",
            "--amount",
            "10000",
            "--term",
            "3",
            "--on",
            "2026-01-10",
        ],
        ["loan", "review", "1", "--on", "2026-01-12"],
        ["loan", "approve", "1", "--as", "risk", "--on", "2026-01-12"],
        ["loan", "disburse", "1", "--on", "2026-01-12"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.stderr)
    digest = Digest(database_url)
    yield runner, digest
    digest.close()


def _check(runner: CliRunner, digest: Digest, argv: list[str]) -> None:
    before = digest()
    result = runner.invoke(app, argv)
    shown = f"{argv!r}: {result.stderr}"
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.stdout + result.stderr, shown
    if result.exit_code != 0:
        assert len(result.stderr.strip().splitlines()) <= 1, shown
        assert digest() == before, f"refused but changed the book: {shown}"


@fuzz_settings(few=25)
@given(argv=commands())
def test_random_arguments_never_crash_and_a_refusal_changes_nothing(
    book: tuple[CliRunner, Digest], argv: list[str]
) -> None:
    _check(*book, argv)


@fuzz_settings(few=10)
@given(argv=junk())
def test_random_words_after_a_command_never_crash(
    book: tuple[CliRunner, Digest], argv: list[str]
) -> None:
    _check(*book, argv)
