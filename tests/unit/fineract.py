"""Turn a Fineract scenario (tests/unit/data/fineract_scenarios.yaml) into lendflow terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from lendflow.domain.calendar import DaysInMonth, DaysInYear, Frequency
from lendflow.domain.money import Rounding, to_fen
from lendflow.domain.schedule import (
    Amortization,
    InterestMethod,
    InterestPeriod,
    LeapYears,
    MultipleRounding,
    ScheduleTerms,
)

DATA = Path(__file__).with_name("data") / "fineract_scenarios.yaml"


def scenarios() -> list[dict[str, Any]]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))["scenarios"]


def fen(text: str) -> int:
    return to_fen(Decimal(text).quantize(Decimal("0.01")))


def fineract_terms(raw: dict[str, Any], **overrides: Any) -> ScheduleTerms:
    """Fineract's settings: HALF_EVEN unless stated, 1/365 a day, nearest multiple."""
    multiple = raw.get("instalment_multiple")
    values: dict[str, Any] = dict(
        principal=fen(raw["principal"]),
        annual_rate=Decimal(raw["annual_rate"]),
        repayments=raw["repayments"],
        disbursed=date.fromisoformat(raw["disbursed"]),
        every=raw["every"],
        frequency=Frequency(raw["frequency"]),
        amortization=Amortization(raw.get("amortization") or "equal_instalments"),
        interest=InterestMethod(raw.get("interest") or "declining"),
        interest_period=InterestPeriod(raw.get("interest_period") or "same_as_repayment"),
        days_in_year=DaysInYear(str(raw["days_in_year"])),
        days_in_month=DaysInMonth(str(raw["days_in_month"])),
        principal_grace=raw.get("principal_grace") or 0,
        interest_grace=raw.get("interest_grace") or 0,
        instalment_multiple=to_fen(int(multiple)) if multiple else None,
        rounding=Rounding(raw.get("rounding") or "HALF_EVEN"),
        leap_years=LeapYears.FIXED_365,
        multiple_rounding=MultipleRounding.NEAREST,
    )
    values.update(overrides)
    return ScheduleTerms(**values)
