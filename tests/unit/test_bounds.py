"""The edge's bounds: what a person may type for an id, an amount, a date, a key, a text."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import String

from lendflow.domain import bounds
from lendflow.domain.bounds import AmountKind
from lendflow.domain.errors import BadInput
from lendflow.store.tables import idempotency_records, journal_entries, loans


def test_the_largest_id_is_what_postgresql_integer_columns_hold() -> None:
    assert bounds.MAX_ID == 2_147_483_647
    assert bounds.parse_id("2147483647", field="loan id") == 2_147_483_647
    for typed in ("2147483648", "0", "-1", "1.0", "１", "99999999999999999999"):
        with pytest.raises(BadInput, match="loan id must be a whole number from 1 to"):
            bounds.parse_id(typed, field="loan id")
    assert str(loans.c.id.type) == "INTEGER"


def test_a_key_with_the_longest_operation_prefix_fits_its_columns() -> None:
    longest_prefix = max(len("repay:"), len("disburse:"))
    for column in (idempotency_records.c.key, journal_entries.c.idempotency_key):
        assert isinstance(column.type, String)
        assert bounds.MAX_KEY_LENGTH + longest_prefix <= column.type.length
    assert bounds.check_key("k" * 100, field="--idempotency-key") == "k" * 100
    with pytest.raises(BadInput, match="too long: at most 100 characters"):
        bounds.check_key("k" * 101, field="--idempotency-key")
    for key in ("pay 7", "付款", "pay\x00", ""):
        with pytest.raises(BadInput, match="printable ASCII"):
            bounds.check_key(key, field="--idempotency-key")


@pytest.mark.parametrize(
    ("kind", "largest"),
    [
        (AmountKind.LOAN, 10_000_000_000),
        (AmountKind.REPAYMENT, 10_000_000_000),
        (AmountKind.INCOME, 10_000_000_000),
        (AmountKind.FEE, 100_000_000),
    ],
)
def test_each_kind_of_amount_has_its_ceiling(kind: AmountKind, largest: int) -> None:
    assert bounds.check_amount(largest, kind, field="--amount") == largest
    with pytest.raises(BadInput, match="--amount is too large"):
        bounds.check_amount(largest + 1, kind, field="--amount")
    with pytest.raises(BadInput, match="must be more than zero"):
        bounds.check_amount(0, kind, field="--amount")
    assert bounds.check_amount(0, kind, field="--fee", allow_zero=True) == 0


def test_dates_are_real_days_in_the_bounded_years() -> None:
    assert bounds.parse_date("2028-02-29", field="--on") == date(2028, 2, 29)
    assert bounds.parse_date("2100-12-31", field="--on") == date(2100, 12, 31)
    with pytest.raises(BadInput, match="--on is not a date: 2026-02-29"):
        bounds.parse_date("2026-02-29", field="--on")
    with pytest.raises(BadInput, match="must fall in the years 2000 to 2100"):
        bounds.parse_date("2101-01-01", field="--on")
    with pytest.raises(BadInput, match="use YYYY-MM-DD"):
        bounds.parse_date("2026-1-1", field="--on")


def test_text_has_a_length_and_no_control_characters() -> None:
    assert bounds.check_note("第一行\n第二行", field="--note") == "第一行\n第二行"
    with pytest.raises(BadInput, match="control characters"):
        bounds.check_text("one\nline", field="--subject")
    with pytest.raises(BadInput, match="control characters"):
        bounds.check_note("nul\x00", field="--note")
    with pytest.raises(BadInput, match="at most 64 characters"):
        bounds.check_code("c" * 65, field="--product")
