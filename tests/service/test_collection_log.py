"""The collection log: contacts recorded as they happened, the policy's limits refused by
rule (hours, a daily limit, the borrower only) with nothing recorded."""

from __future__ import annotations

from datetime import datetime

import pytest

from lendflow.domain.errors import BadInput, Refused
from lendflow.loans.collection import contacts, log_contact
from lendflow.loans.views import loan_events
from lendflow.workspace.context import Workspace
from tests.service.test_engine_repayments import Applicant, active_loan

DAY = "2026-02-20"


def at(clock: str, day: str = DAY) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}")


def test_contacts_are_logged_and_the_limits_refused_by_rule(
    ws: Workspace, applicant: Applicant
) -> None:
    loan_id = active_loan(ws, applicant)
    ops = ws.actor("ops")
    first = log_contact(ws, ops, loan_id, "call", "no_answer", at("09:15"))
    assert (first.contacted_at, first.business_date.isoformat()) == (f"{DAY}T09:15", DAY)

    with pytest.raises(Refused) as late:
        log_contact(ws, ops, loan_id, "call", "no_answer", at("23:30"))
    assert str(late.value) == (
        "refused by rule COLLECTION_HOURS: a call at 23:30 is outside the hours 08:00–21:00"
    )
    with pytest.raises(Refused, match=r"COLLECTION_THIRD_PARTY: .* not a relative"):
        log_contact(ws, ops, loan_id, "call", "refused_to_pay", at("10:00"), "relative")

    log_contact(ws, ops, loan_id, "letter", "delivered", at("22:40"))  # posted, not a call
    log_contact(ws, ops, loan_id, "sms", "delivered", at("11:00"))
    with pytest.raises(Refused) as fourth:
        log_contact(ws, ops, loan_id, "call", "promised_to_pay", at("15:00"))
    assert "COLLECTION_DAILY_LIMIT: the borrower was contacted 3 time(s) on 2026-02-20" in str(
        fourth.value
    )
    log_contact(ws, ops, loan_id, "call", "promised_to_pay", at("08:00", "2026-02-21"))

    logged = contacts(ws, ws.actor("auditor"), loan_id)
    assert [(c.channel, c.contacted_at[-5:]) for c in logged] == [
        ("call", "09:15"), ("letter", "22:40"), ("sms", "11:00"), ("call", "08:00"),
    ]  # fmt: skip
    trail = [e for e in loan_events(ws, ops, loan_id) if e.name == "CollectionContact"]
    assert len(trail) == 4


def test_bad_contacts_are_one_line_and_a_closed_loan_is_not_collected(
    ws: Workspace, applicant: Applicant
) -> None:
    loan_id = active_loan(ws, applicant)
    ops = ws.actor("ops")
    with pytest.raises(BadInput, match="channel must be one of call, sms, letter, visit"):
        log_contact(ws, ops, loan_id, "pigeon", "delivered", at("10:00"))
    with pytest.raises(BadInput, match="outcome must be one of"):
        log_contact(ws, ops, loan_id, "call", "threatened", at("10:00"))
    with pytest.raises(Refused, match="may not log collection contacts"):
        log_contact(ws, ws.actor("auditor"), loan_id, "call", "no_answer", at("10:00"))
    assert contacts(ws, ops, loan_id) == []
