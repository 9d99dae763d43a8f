"""The facts credit decisions may use: one vocabulary for scorecards and decision tables.

A scorecard or a table that names anything else is refused at load, so a typo
in a rule can never silently match nothing. Money facts are fen; `dti` is
percent of monthly income; `score` exists only for tables (it is what the
scorecard produces).
"""

from __future__ import annotations

from lendflow.domain.rules import InputKind

FACTS: dict[str, InputKind] = {
    "age": InputKind.NUMBER,
    "monthly_income": InputKind.MONEY,
    "monthly_debt": InputKind.MONEY,
    "dti": InputKind.NUMBER,
    "employment": InputKind.CATEGORY,
    "purpose": InputKind.CATEGORY,
    "product": InputKind.CATEGORY,
    "requested_amount": InputKind.MONEY,
    "term": InputKind.NUMBER,
    "exposure": InputKind.MONEY,
    "prior_loans": InputKind.NUMBER,
    "worst_prior_dpd": InputKind.NUMBER,
    "prior_write_off": InputKind.FLAG,
    "blocklisted": InputKind.FLAG,
}
TABLE_FACTS: dict[str, InputKind] = {**FACTS, "score": InputKind.NUMBER}

EMPLOYMENT = (
    "salaried",
    "civil_servant",
    "self_employed",
    "business_owner",
    "freelance",
    "student",
    "retired",
    "unemployed",
    "unknown",
)
