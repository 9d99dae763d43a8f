"""The authorisations an applicant gives, as the rules ask for them.

PIPL (arts. 13, 28–29) needs consent to process personal information and a separate
consent for sensitive personal information (an ID number, income); the credit-reporting
rules need written authorisation before a credit report is queried or a loan reported.
An application without the two personal-information consents is refused; a review
without `credit_check` may not score; `credit_reporting` is asked of loans that will be
reported.
"""

from __future__ import annotations

from collections.abc import Iterable

from lendflow.domain.errors import BadInput

CREDIT_CHECK = "credit_check"
PERSONAL_INFORMATION = "personal_information"
SENSITIVE_PERSONAL_INFORMATION = "sensitive_personal_information"
CREDIT_REPORTING = "credit_reporting"
CONSENTS = (CREDIT_CHECK, PERSONAL_INFORMATION, SENSITIVE_PERSONAL_INFORMATION, CREDIT_REPORTING)
TO_APPLY = (PERSONAL_INFORMATION, SENSITIVE_PERSONAL_INFORMATION)
ALL = "all"


def parse_consents(given: str | Iterable[str] | None) -> tuple[str, ...]:
    """Consent names as typed (a list, or text separated by commas); `all` is every one.
    An unknown name is refused in one line rather than dropped."""
    if given is None:
        return ()
    names = given.split(",") if isinstance(given, str) else list(given)
    chosen: set[str] = set()
    for raw in names:
        name = str(raw).strip()
        if not name:
            continue
        if name == ALL:
            chosen.update(CONSENTS)
        elif name in CONSENTS:
            chosen.add(name)
        else:
            raise BadInput(f"unknown consent {name!r}: one of {', '.join(CONSENTS)} or all")
    return tuple(c for c in CONSENTS if c in chosen)


def missing_to_apply(given: Iterable[str]) -> list[str]:
    """The consents an application needs that were not given, in their order."""
    return [c for c in TO_APPLY if c not in set(given)]
