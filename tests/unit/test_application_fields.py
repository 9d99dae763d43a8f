"""An application's fields: checked one by one for a form, or first problem first for the
command line and the API, by the same checks."""

from __future__ import annotations

import pickle
from datetime import date

import pytest

from lendflow.domain.errors import BadInput, FieldProblems, FieldRefused
from lendflow.domain.identity import sample_national_id
from lendflow.loans.applications import Application

GOOD = {
    "product": "cash-easy",
    "name": "张三",
    "national_id": sample_national_id(date(1990, 5, 17), 12),
    "phone": "13812345678",
    "monthly_income": "8000.00",
    "amount": "10000.00",
    "term": "6",
}


def test_parse_each_names_every_wrong_field_with_its_line() -> None:
    with pytest.raises(FieldProblems) as caught:
        Application.parse_each(
            **{**GOOD, "phone": "", "amount": "1.234", "employment": "astronaut", "term": "x"}
        )
    assert caught.value.fields == {
        "term": "term must be a whole number of repayments, got 'x'",
        "employment": (
            "employment must be one of salaried, civil_servant, self_employed, business_owner,"
            " freelance, student, retired, unemployed, unknown, got 'astronaut'"
        ),
        "phone": "phone is missing",
        "amount": "amount has more than two decimal places: 1.234",
    }
    assert caught.value.message == "term must be a whole number of repayments, got 'x' (and 3 more)"


def test_parse_each_and_parse_read_a_good_application_alike() -> None:
    each = Application.parse_each(**GOOD, monthly_debt="", purpose="", referrer="")
    assert each == Application.parse(**GOOD)
    assert (each.amount, each.monthly_income, each.term, each.employment) == (
        1_000_000,
        800_000,
        6,
        "unknown",
    )


def test_parse_holds_amounts_to_their_bounds_for_every_entry_point() -> None:
    with pytest.raises(BadInput, match=r"amount is too large: at most 100,000,000\.00 yuan"):
        Application.parse(**{**GOOD, "amount": "100000000.01"})
    with pytest.raises(BadInput, match="monthly income is too large"):
        Application.parse(**{**GOOD, "monthly_income": "100000000.01"})
    with pytest.raises(BadInput, match="application is missing phone, term"):
        Application.parse(**{**GOOD, "phone": "", "term": None})


def test_field_errors_keep_their_fields_through_pickling() -> None:
    problems = pickle.loads(pickle.dumps(FieldProblems({"amount": "too much", "term": "no"})))
    assert problems.fields == {"amount": "too much", "term": "no"}
    refused = pickle.loads(pickle.dumps(FieldRefused("term 5 is not offered", "term")))
    assert (refused.message, refused.field) == ("term 5 is not offered", "term")
