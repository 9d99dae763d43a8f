"""Consents with an application: the two personal-information consents or no
application, `credit_check` or no review, each kept with the words' version and hash, and
a withdrawal that stops later credit checks."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from lendflow.config.consents import load_consent_texts
from lendflow.domain.consents import parse_consents
from lendflow.domain.errors import BadInput, Refused
from lendflow.loans import applications
from lendflow.loans.consents import loan_consents, withdraw
from lendflow.loans.views import loan_events
from lendflow.workspace.context import Workspace
from tests.service.test_engine_applications import APPLIED, Applicant, refused_quietly


def test_an_application_without_the_personal_information_consents_is_refused(
    ws: Workspace, applicant: Applicant
) -> None:
    ops = ws.actor("ops")
    bare = replace(applicant(), consents=("credit_check", "personal_information"))
    refused_quietly(
        ws,
        Refused,
        "refused by rule CONSENT_REQUIRED: the applicant has not given consent to"
        " sensitive_personal_information",
        lambda: applications.apply(ws, ops, bare, APPLIED),
    )


def test_consents_are_kept_with_the_words_shown(ws: Workspace, applicant: Applicant) -> None:
    ops = ws.actor("ops")
    given = replace(applicant(), consent_locale="en", channel="api")
    loan = applications.apply(ws, ops, given, APPLIED)
    kept = {c.name: c for c in loan_consents(ws, ops, loan.id)}
    assert sorted(kept) == sorted(parse_consents("all"))
    words = load_consent_texts().credit_check.text["en"]
    check = kept["credit_check"]
    assert (check.version, check.locale, check.channel, check.given_on) == (1, "en", "api", APPLIED)
    assert check.text_sha256 == hashlib.sha256(words.encode("utf-8")).hexdigest()
    submitted = next(e for e in loan_events(ws, ops, loan.id) if e.name == "LoanSubmitted")
    assert '"consents":["credit_check","personal_information"' in submitted.payload


def test_review_needs_credit_check_and_a_withdrawal_stops_it(
    ws: Workspace, applicant: Applicant
) -> None:
    ops = ws.actor("ops")
    no_check = replace(applicant(), consents=parse_consents(
        ["personal_information", "sensitive_personal_information"]
    ))  # fmt: skip
    first = applications.apply(ws, ops, no_check, APPLIED)
    refused_quietly(
        ws,
        Refused,
        f"refused by rule CONSENT_REQUIRED: loan {first.id} has no credit_check consent in force",
        lambda: applications.start_review(ws, ops, first.id, APPLIED),
    )
    second = applications.apply(ws, ops, applicant(), APPLIED)
    withdrawn = withdraw(ws, ops, second.id, "credit_check", APPLIED)
    assert withdrawn.withdrawn_on == APPLIED
    with pytest.raises(Refused, match="no credit_check consent in force"):
        applications.start_review(ws, ops, second.id, APPLIED)
    assert [e.name for e in loan_events(ws, ops, second.id)][-1] == "ConsentWithdrawn"
    with pytest.raises(Refused, match="was withdrawn on 2026-01-10"):
        withdraw(ws, ops, second.id, "credit_check", APPLIED)


def test_unknown_consent_names_are_bad_input() -> None:
    with pytest.raises(BadInput, match="unknown consent 'marketing': one of credit_check"):
        parse_consents(["personal_information", "marketing"])
    assert parse_consents("all") == parse_consents(
        "credit_check,personal_information,sensitive_personal_information,credit_reporting"
    )
