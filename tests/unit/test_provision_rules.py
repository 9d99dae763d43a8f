"""Loan-loss provisions, the trial balance and the lender's chart, in the domain's terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendflow.config.gl_accounts import GlMapping, default_gl_accounts_path, load_gl_mapping
from lendflow.config.loading import parse_model
from lendflow.config.policy import Policy
from lendflow.domain.errors import BadInput, Conflict
from lendflow.domain.ledger import Account, trial_balance
from lendflow.domain.provisions import (
    DEFAULT_RATES,
    ProvisionRates,
    allowance_used,
    by_class,
    is_month_end,
    month_end_on_or_before,
    percent_of,
)

RATES = ProvisionRates(DEFAULT_RATES, Decimal("1"))


def test_a_loan_is_provided_for_by_its_class_and_the_general_rate_each_rounded_half_up() -> None:
    # 12,345.67 at 1.5% is 185.18505 -> 185.19; 1% general is 123.4567 -> 123.46
    normal = RATES.of(1_234_567, "normal")
    assert (normal.rate, normal.specific, normal.general, normal.total) == (
        Decimal("1.5"), 18_519, 12_346, 30_865,
    )  # fmt: skip
    # 8,000.00 substandard at 30% is 2,400.00; loss at 100% is the whole principal
    assert RATES.of(800_000, "substandard").specific == 240_000
    assert RATES.of(800_000, "loss").specific == 800_000
    assert RATES.of(100, "special_mention").specific == 3  # 1.00 at 3% is 0.03
    assert percent_of(50, Decimal("1")) == 1  # 0.5 fen rounds half up
    assert percent_of(49, Decimal("1")) == 0


def test_a_class_without_a_rate_is_refused_by_name() -> None:
    with pytest.raises(Conflict, match="no provision rate for class 'watch'"):
        RATES.of(100, "watch")


def test_class_lines_add_their_loans_provisions_not_principal_times_rate() -> None:
    """Three normal loans of 0.33 each: 0.495 fen -> 0 each, although 0.99 at 1.5% is 1.485."""
    loans = [ProvisionRates(DEFAULT_RATES).of(33, "normal") for _ in range(3)]
    loans.append(ProvisionRates(DEFAULT_RATES).of(1_000_000, "doubtful"))
    lines = by_class(loans)
    assert [(c.classification, c.loans, c.principal, c.provision) for c in lines] == [
        ("normal", 3, 99, 0),
        ("doubtful", 1, 1_000_000, 600_000),
    ]


def test_a_write_off_uses_the_loans_allowance_up_to_its_loss() -> None:
    assert allowance_used(600_000, 1_050_000) == 600_000
    assert allowance_used(1_010_000, 1_000_000) == 1_000_000  # the rest is released later
    assert allowance_used(0, 500) == 0


def test_month_ends() -> None:
    assert is_month_end(date(2028, 2, 29)) and is_month_end(date(2027, 2, 28))
    assert not is_month_end(date(2028, 2, 28)) and not is_month_end(date(2026, 1, 30))
    assert month_end_on_or_before(date(2026, 3, 5)) == date(2026, 2, 28)
    assert month_end_on_or_before(date(2026, 3, 31)) == date(2026, 3, 31)


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(sorted(DEFAULT_RATES)))
def test_a_provision_is_the_exact_figure_rounded_and_never_more_than_the_principal(
    principal: int, klass: str
) -> None:
    found = ProvisionRates(DEFAULT_RATES).of(principal, klass)
    exact = Decimal(principal) * DEFAULT_RATES[klass] / 100
    assert abs(found.specific - exact) <= Decimal("0.5")
    assert 0 <= found.specific <= principal


@given(
    st.lists(
        st.tuples(st.sampled_from([a.value for a in Account]), st.integers(1, 10**9)),
        max_size=20,
    )
)
def test_a_balanced_journal_gives_a_trial_balance_whose_columns_agree(
    postings: list[tuple[str, int]],
) -> None:
    """Each posting debits an account and credits cash: the debit and credit columns of
    the net balances add up to the same total, and every account of the chart is listed."""
    sums: dict[str, tuple[int, int]] = {}
    for account, amount in postings:
        d, c = sums.get(account, (0, 0))
        sums[account] = (d + amount, c)
        d, c = sums.get("cash", (0, 0))
        sums["cash"] = (d, c + amount)
    rows = trial_balance(sums)
    assert [r[0] for r in rows][: len(Account)] == [a.value for a in Account]
    assert sum(r[1] for r in rows) == sum(r[2] for r in rows)
    assert all(r[3] == r[1] - r[2] and min(r[1], r[2]) == 0 for r in rows)


def test_an_account_the_chart_does_not_know_is_still_listed() -> None:
    rows = trial_balance({"suspense_interest": (0, 500), "cash": (500, 0)})
    assert rows[-1] == ("suspense_interest", 0, 500, -500)


def test_the_packaged_chart_maps_every_account() -> None:
    chart = load_gl_mapping()
    assert chart.of("loan_loss_allowance").code == "1304"
    assert {a.value for a in Account} == set(chart.accounts)


def test_a_mapping_missing_an_account_or_naming_another_is_refused(tmp_path: Path) -> None:
    text = default_gl_accounts_path().read_text(encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    missing.write_text(text.replace("  cash:", "  nothing:"), encoding="utf-8")
    with pytest.raises(BadInput, match="not lendflow accounts: nothing"):
        load_gl_mapping(missing)
    short = tmp_path / "short.yaml"
    short.write_text(
        "\n".join(line for line in text.splitlines() if "fee_waived" not in line),
        encoding="utf-8",
    )
    with pytest.raises(BadInput, match="no general-ledger account for fee_waived"):
        load_gl_mapping(short)
    with pytest.raises(BadInput, match=r"accounts\.cash\.code"):
        parse_model(GlMapping, {"accounts": {"cash": {"code": "", "name": "x"}}}, "gl.yaml")


def test_provision_rates_come_from_the_policy_and_are_held_to_the_whole_principal() -> None:
    policy = parse_model(Policy, {"provisions": {"general_percent": "1"}}, "policy.yaml")
    assert policy.provisions.domain().rate_of("doubtful") == Decimal(60)
    assert policy.provisions.domain().general == Decimal(1)
    with pytest.raises(BadInput, match="more than the whole principal"):
        parse_model(Policy, {"provisions": {"rates": {"loss": "101"}}}, "policy.yaml")
