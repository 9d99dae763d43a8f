"""Shared by the browser tests: the staff, the business day, signing in, screenshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from playwright.sync_api import Page

from lendflow.domain.identity import sample_national_id

CHROMIUM = "/usr/bin/chromium"
BUSINESS_DAY = date(2026, 1, 5)
PASSWORD = "correct horse battery"
STAFF = ("admin", "ops", "risk", "committee1", "auditor", "pm")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "screenshots"
SEEDED_ID = sample_national_id(date(1991, 3, 9), 42)
"""The national ID of a borrower the workspace starts with (an application to review)."""


@dataclass(frozen=True)
class Console:
    """The running console and what its workspace started with."""

    url: str
    submitted: list[int]  # applications waiting for review (the first is SEEDED_ID's)
    referred: int  # an application referred to the risk desk


def sign_in(page: Page, user: str, password: str = PASSWORD) -> None:
    """Through the sign-in form, as a person types it."""
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("main button[type=submit]")


def screenshot(page: Page, name: str) -> None:
    """Keep what the page looked like as a test artefact (git-ignored), named by page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
