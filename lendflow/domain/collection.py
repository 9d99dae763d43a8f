"""The limits on contacting a borrower about money owed, as pure rules.

Collectors may contact only the borrower (never relatives, employers or other third
parties), within the policy's hours (local time, Asia/Shanghai), and at most a number of
times a day across every channel. A letter is posted, not a contact at an hour, so the
hours do not apply to it; it still counts towards the day. Each refusal names its rule.
"""

from __future__ import annotations

from datetime import datetime, time

from lendflow.domain.errors import BadInput, Refused

CHANNELS = ("call", "sms", "letter", "visit")
OUTCOMES = (
    "promised_to_pay", "paid", "no_answer", "left_message", "refused_to_pay", "disputed",
    "wrong_number", "delivered",
)  # fmt: skip
RECIPIENTS = ("borrower", "relative", "employer", "other")
TIMED = frozenset({"call", "sms", "visit"})


def parse_clock(text: str, field: str) -> time:
    """A policy's "HH:MM"."""
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{field} must be a time like 08:00, got {text!r}") from None


def check_contact(
    channel: str,
    recipient: str,
    at: datetime,
    hours: tuple[time, time],
    contacts_that_day: int,
    per_day: int,
) -> None:
    """Refuse a contact the rules forbid; `at` is local (Asia/Shanghai) time."""
    if channel not in CHANNELS:
        raise BadInput(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    if recipient not in RECIPIENTS:
        raise BadInput(f"to must be one of {', '.join(RECIPIENTS)}, got {recipient!r}")
    if recipient != "borrower":
        raise Refused(
            f"refused by rule COLLECTION_THIRD_PARTY: collectors may contact the borrower only,"
            f" not a {recipient}"
        )
    start, end = hours
    if channel in TIMED and not start <= at.time() <= end:
        raise Refused(
            f"refused by rule COLLECTION_HOURS: a {channel} at {at:%H:%M} is outside the hours"
            f" {start:%H:%M}–{end:%H:%M}"
        )
    if contacts_that_day >= per_day:
        raise Refused(
            f"refused by rule COLLECTION_DAILY_LIMIT: the borrower was contacted"
            f" {contacts_that_day} time(s) on {at.date()} already (at most {per_day} a day)"
        )
