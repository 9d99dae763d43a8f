"""Product specs and the policy: every problem reported, with file and field path."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from lendflow.config.loading import read_yaml
from lendflow.config.policy import AprCap, ChargesCap, Policy, load_policy
from lendflow.config.product_spec import (
    example_product_paths,
    highest_apr,
    load_product,
    parse_product,
    policy_problems,
)
from lendflow.domain.errors import BadInput, Problems
from lendflow.domain.schedule import Method


def example(name: str) -> dict:  # type: ignore[type-arg]
    path = next(p for p in example_product_paths() if p.stem == name)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_examples_are_one_consumer_and_one_small_business_product() -> None:
    kinds = {load_product(p).kind for p in example_product_paths()}
    assert kinds == {"consumer", "small_business"}


@pytest.mark.parametrize("path", example_product_paths(), ids=lambda p: p.stem)
def test_examples_respect_the_packaged_policy(path: Path) -> None:
    spec = load_product(path)
    assert policy_problems(spec, load_policy(), str(path)) == []


def test_amounts_become_fen_and_rates_stay_exact() -> None:
    spec = parse_product(example("cash-easy"), "cash-easy.yaml")
    assert spec.amount.min == 100_000 and spec.amount.max == 5_000_000
    assert str(spec.rate.annual) == "15.60"
    assert spec.repayment.method is Method.ANNUITY


def test_every_problem_is_listed_with_its_field_path() -> None:
    data = example("cash-easy")
    data["amount"]["min"] = "abc"
    data["terms"] = [3, "six"]
    data["rate"]["annual"] = 18.5  # a float: refused, money and rates never pass through float
    del data["kind"]
    with pytest.raises(Problems) as caught:
        parse_product(data, "p.yaml")
    problems = caught.value.problems
    assert any(p.startswith("p.yaml: amount.min: ") and "not an amount" in p for p in problems)
    assert any(p.startswith("p.yaml: terms[1]: ") for p in problems)
    assert any(p.startswith("p.yaml: rate.annual: ") and "quotes" in p for p in problems)
    assert any(p.startswith("p.yaml: kind: ") and "required" in p.lower() for p in problems)
    assert len(problems) == 4


def test_unknown_fields_are_refused_not_ignored() -> None:
    data = example("cash-easy")
    data["rate"]["anual"] = "12"
    with pytest.raises(Problems, match=r"rate\.anual"):
        parse_product(data, "p.yaml")


def test_a_product_above_the_apr_cap_is_named_with_the_costliest_loan() -> None:
    data = example("cash-easy")
    data["rate"]["max"] = "23.00"
    spec = parse_product(data, "p.yaml")
    problems = policy_problems(spec, load_policy(), "p.yaml")
    assert len(problems) == 1
    assert problems[0].startswith("p.yaml: rate: highest APR ")
    assert "exceeds the policy cap 24%" in problems[0]
    assert highest_apr(spec) > 24


def test_the_apr_cap_holds_over_actual_dates_too() -> None:
    """cash-easy at the top of its band (18%, 0.10% a month in fees), paid out on the
    anchor date 15 Jan 2025: its costliest loan per repayment period is 50,000.00 over 12
    months at 22.05% compound, inside a 22.10% cap. Over the actual dates the 6-month loan
    costs more: 8,826.26 five times and 8,826.27 on the 15th of Feb to Jul, 181 days for
    six "months" (February has 28), so 22.20% a year, and the cap refuses it."""
    spec = parse_product(example("cash-easy"), "c.yaml")
    flows = (
        [(0, Decimal(5_000_000))]
        + [(days, Decimal(-882_626)) for days in (31, 59, 90, 120, 151)]
        + [(181, Decimal(-882_627))]
    )

    def npv(annual: str) -> Decimal:
        growth = 1 + Decimal(annual)
        return sum((amount / growth ** (Decimal(days) / 365) for days, amount in flows), Decimal(0))

    assert npv("0.2220") < 0 < npv("0.2221")
    policy = Policy(apr_cap=AprCap(percent="22.10"))
    problems = policy_problems(spec, policy, "c.yaml")
    assert problems == [
        "c.yaml: rate: highest APR 22.20% (amount 50000.00, 6 repayments, fees included)"
        " exceeds the policy cap 22.10%"
    ]
    assert highest_apr(spec).quantize(Decimal("0.01")) == Decimal("22.20")


def test_lpr_multiple_cap_and_deducted_fees() -> None:
    data = example("sme-growth")
    data["fees"][0]["deducted_from_principal"] = True
    spec = parse_product(data, "s.yaml")
    policy = Policy(
        apr_cap=AprCap(kind="lpr_multiple", multiple=4, lpr="3.00", lpr_date="2025-05-20")
    )
    problems = policy_problems(spec, policy, "s.yaml")
    assert any("deducting fees from the principal" in p for p in problems)
    assert any("12.00% (4 x one-year LPR 3.00% of 2025-05-20)" in p for p in problems)


def test_the_shipped_products_fit_the_all_in_charges_cap() -> None:
    for path in example_product_paths():
        assert policy_problems(load_product(path), load_policy(), path.name) == []


def test_a_penalty_cut_every_day_after_maturity_is_refused() -> None:
    # cash-easy: 24% a year over 360 days a day; a cap of 24% over 365 days allows less
    spec = parse_product(example("cash-easy"), "c.yaml")
    problems = policy_problems(spec, Policy(charges_cap=ChargesCap(days_in_year=365)), "c.yaml")
    assert problems == [
        "c.yaml: penalty.annual_rate: 24.00% over 360 days exceeds the all-in charges cap 24%"
        " over 365 days: every overdue day after maturity would be cut"
    ]


def test_on_overdue_principal_a_penalty_above_the_cap_is_refused_as_cut_every_overdue_day() -> None:
    spec = parse_product(example("cash-easy"), "c.yaml")
    cap = ChargesCap(days_in_year=365, base="overdue_principal")
    problems = policy_problems(spec, Policy(charges_cap=cap), "c.yaml")
    assert problems == [
        "c.yaml: penalty.annual_rate: 24.00% over 360 days exceeds the all-in charges cap 24%"
        " over 365 days of overdue principal: every overdue day would be cut"
    ]


def test_the_shipped_products_fit_the_all_in_charges_cap_on_overdue_principal() -> None:
    policy = Policy(charges_cap=ChargesCap(base="overdue_principal"))
    for path in example_product_paths():
        assert policy_problems(load_product(path), policy, path.name) == []


def test_contract_charges_above_the_all_in_cap_are_refused_on_overdue_principal_too() -> None:
    # contract charges are never cut, whatever the base: the APR is held to the cap's rate
    spec = parse_product(example("cash-easy"), "c.yaml")
    cap = ChargesCap(
        kind="lpr_multiple", multiple=4, lpr="3.50", lpr_date="2025-05-20", base="overdue_principal"
    )
    problems = policy_problems(spec, Policy(charges_cap=cap), "c.yaml")
    assert len(problems) == 2
    assert problems[0].endswith("contract charges are never cut")
    assert problems[1].endswith("of overdue principal: every overdue day would be cut")


def test_a_charges_cap_base_the_policy_does_not_know_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("charges_cap:\n  base: overdue_interest\n", encoding="utf-8")
    with pytest.raises(BadInput) as refused:
        load_policy(path)
    assert "charges_cap.base" in str(refused.value)
    assert "'principal_outstanding' or 'overdue_principal'" in str(refused.value)


def test_contract_charges_above_a_stricter_all_in_cap_are_refused() -> None:
    spec = parse_product(example("cash-easy"), "c.yaml")
    cap = ChargesCap(kind="lpr_multiple", multiple=4, lpr="3.50", lpr_date="2025-05-20")
    problems = policy_problems(spec, Policy(charges_cap=cap), "c.yaml")
    assert len(problems) == 2  # its costliest loan, and its penalty at 24%
    assert problems[0].startswith("c.yaml: rate: highest APR ")
    assert problems[0].endswith(
        "exceeds the all-in charges cap 14.00% (4 x one-year LPR 3.50% of 2025-05-20):"
        " contract charges are never cut"
    )


def test_bad_yaml_is_one_line_with_the_line_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("code: x\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"bad\.yaml: line \d+"):
        read_yaml(path)
    with pytest.raises(BadInput, match="file not found"):
        read_yaml(tmp_path / "missing.yaml")
