"""Reading a repayment file: whole-file refusals in one line, and every hostile row
reported by line number with a reason (no database: the posting is tested elsewhere)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lendflow.domain.errors import BadInput
from lendflow.loans.repayment_files import (
    FileLimits,
    RepaymentRow,
    RowProblem,
    inspect_repayment_file,
    read_chunk,
)

HEADER = "reference,loan_id,amount,paid_on\n"
FUZZ = settings(
    max_examples=1000 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 40,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    deadline=None,
)


def read(path: Path, chunk_size: int = 1000, channel: str | None = None, **limits: int):
    """Every row and problem of the file, chunk by chunk, as the flow reads them."""
    lim = FileLimits(**limits)
    file = inspect_repayment_file(path, chunk_size, lim)
    rows: list[RepaymentRow] = []
    problems: list[RowProblem] = []
    for chunk in file.chunks:
        good, bad = read_chunk(file, chunk, channel, lim)
        rows += good
        problems += bad
    return rows, problems


def write(tmp_path: Path, body: str | bytes, name: str = "channel.csv") -> Path:
    path = tmp_path / name
    if isinstance(body, str):
        path.write_text(body, encoding="utf-8")
    else:
        path.write_bytes(body)
    return path


def test_a_good_file_reads_every_row_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "PAY-1,7,1000.50,2026-02-12\n\nPAY-2,8,3,2026-02-13\n")
    rows, problems = read(path, chunk_size=1)
    assert problems == []
    assert [(r.line, r.reference, r.loan_id, r.amount, r.paid_on) for r in rows] == [
        (2, "PAY-1", 7, 100_050, date(2026, 2, 12)),
        (4, "PAY-2", 8, 300, date(2026, 2, 13)),
    ]
    assert rows[0].idempotency_key == "channel:PAY-1"  # files without a channel keep old keys


HOSTILE = [
    ("P1,²,10,2026-02-12", "loan_id must be a number from 1 to 2147483647, got '²'"),
    ("P2,１２,10,2026-02-12", "loan_id must be a number from 1 to 2147483647, got '１２'"),
    ("P3," + "9" * 5000 + ",10,2026-02-12", "the line is longer than 1024 bytes"),
    ("P3b," + "9" * 11 + ",10,2026-02-12", "loan_id must be a number"),
    ("P4,2147483648,10,2026-02-12", "loan_id must be a number from 1 to 2147483647"),
    ("P5,0,10,2026-02-12", "loan_id must be a number"),
    ("P6,7\x00,10,2026-02-12", "the line contains a NUL character"),
    ("P7,7,１０,2026-02-12", "amount must be yuan in ASCII digits"),
    ("P8,7,-5,2026-02-12", "amount must be positive, got '-5'"),
    ("P9,7,1e3,2026-02-12", "amount must be yuan in ASCII digits"),
    ("P10,7,2000000,2026-02-12", "amount 2000000 is more than the limit of 1000000.00"),
    ("P11,7,10,2026-13-01", "paid_on is not a date: '2026-13-01'"),
    ("P12,7,10,２０２６-02-12", "paid_on is not a date"),
    ("a:b,7,10,2026-02-12", "reference must be 1-64 ASCII letters"),
    ("R" * 65 + ",7,10,2026-02-12", "reference must be 1-64 ASCII letters"),
    ("P13,7,10", "expected 4 fields, found 3"),
    ('P14,"7,10,2026-02-12', "the line is not valid CSV"),
    ("P15,7," + "1" * 130_000 + ",2026-02-12", "the line is longer than 1024 bytes"),
]


@pytest.mark.parametrize(("row", "reason"), HOSTILE, ids=[r[1][:30] for r in HOSTILE])
def test_each_hostile_row_is_reported_and_the_good_ones_kept(
    tmp_path: Path, row: str, reason: str
) -> None:
    path = write(tmp_path, HEADER + "GOOD-1,7,10,2026-02-12\n" + row + "\nGOOD-2,8,10,2026-02-12\n")
    rows, problems = read(path)
    assert [r.reference for r in rows] == ["GOOD-1", "GOOD-2"]
    assert len(problems) == 1 and problems[0].line == 3
    assert problems[0].message.startswith(reason), problems[0].message
    assert "\n" not in problems[0].message and len(problems[0].message) < 200


def test_a_channel_column_namespaces_references_and_must_match_the_option(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "channel,reference,loan_id,amount,paid_on\n"
        "alipay,20260212-0001,7,10,2026-02-12\n"
        "bank-b,20260212-0001,7,10,2026-02-12\n"
        "Bad Channel,X,7,10,2026-02-12\n",
    )
    rows, problems = read(path)
    assert [r.idempotency_key for r in rows] == [
        "channel:alipay:20260212-0001",
        "channel:bank-b:20260212-0001",
    ]
    assert [str(p)[:25] for p in problems] == ["line 4: channel must be 1"]
    rows, problems = read(path, channel="alipay")
    assert [r.line for r in rows] == [2]
    assert str(problems[0]) == "line 3: channel bank-b is not the file's channel alipay"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the file is empty"),
        (b"ref,loan,amount,date\nP,7,10,2026-02-12\n", "line 1: header must be reference,"),
        (HEADER.encode() + b"P,7,10,2026-02-12\n\xff\xfe\n", "line 3: not UTF-8 text"),
        (b"reference;loan_id;amount;paid_on\n", "line 1: header must be"),
    ],
)
def test_a_file_that_is_not_a_repayment_file_is_refused_in_one_line(
    tmp_path: Path, body: bytes, message: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(BadInput) as caught:
        inspect_repayment_file(path, 1000)
    assert message in caught.value.message and "\n" not in caught.value.message


def test_a_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        b"\xef\xbb\xbf" + HEADER.encode().replace(b"\n", b"\r\n") + b"P,7,1,2026-02-12\r\n",
    )
    rows, problems = read(path)
    assert problems == [] and rows[0].amount == 100


def test_size_and_row_count_are_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "".join(f"P{i},7,1,2026-02-12\n" for i in range(11)))
    with pytest.raises(BadInput, match="more than 10 rows"):
        inspect_repayment_file(path, 1000, FileLimits(max_rows=10))
    with pytest.raises(BadInput, match="more than the limit of 100"):
        inspect_repayment_file(path, 1000, FileLimits(max_bytes=100))
    assert len(read(path, chunk_size=4)[0]) == 11


def test_a_file_changed_after_its_check_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "P1,7,1,2026-02-12\n")
    file = inspect_repayment_file(path, 1000)
    path.write_text(HEADER + "P1,7,1000,2026-02-12\n", encoding="utf-8")
    with pytest.raises(BadInput, match="changed or vanished"):
        read_chunk(file, file.chunks[0], None, FileLimits())


@FUZZ
@given(body=st.binary(max_size=400), header=st.booleans())
def test_random_bytes_never_raise_anything_but_one_line_bad_input(
    tmp_path: Path, body: bytes, header: bool
) -> None:
    path = write(tmp_path, (HEADER.encode() if header else b"") + body)
    try:
        rows, problems = read(path, chunk_size=3)
    except BadInput as exc:
        assert "\n" not in exc.message
        return
    lines = {r.line for r in rows} | {p.line for p in problems}
    assert len(lines) == len(rows) + len(problems)  # each line once: posted or reported
    assert all("\n" not in p.message for p in problems)
