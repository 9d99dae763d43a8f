"""The console in a real browser: one `lendflow web` and one headless Chromium for the
module, over a workspace prepared as an administrator would (products live, staff given
passwords with `lendflow user password`), on a fixed business date.

Chromium is Debian's (`/usr/bin/chromium`, installed by `.ci/run`), driven through
Playwright; no browser is ever downloaded. Without it the tests fail with one line
saying so, never skip: CI must not go green without having looked.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from typer.testing import CliRunner

from lendflow.config.settings import Settings
from lendflow.domain.identity import sample_national_id
from lendflow.lifecycle.products import create_product
from lendflow.loans.applications import Application, apply, start_review
from tests.browser.browser_helpers import (
    BUSINESS_DAY,
    CHROMIUM,
    PASSWORD,
    SEEDED_ID,
    STAFF,
    Console,
    sign_in,
)
from tests.web.conftest import ready_workspace, running_server


def _set_passwords(settings: Settings) -> None:
    """As an administrator does: `lendflow user password NAME --password-stdin --as admin`."""
    from lendflow.cli import app

    env = {
        "LENDFLOW_HOME": str(settings.home),
        "LENDFLOW_DATABASE_URL": settings.resolved_database_url,
        "LENDFLOW_TODAY": BUSINESS_DAY.isoformat(),
        "LENDFLOW_USER": None,
    }
    runner = CliRunner()
    for user in STAFF:
        done = runner.invoke(
            app, ["user", "password", user, "--password-stdin", "--as", "admin"], PASSWORD, env=env
        )
        assert done.exit_code == 0, done.output


def _seed(settings: Settings) -> tuple[list[int], int]:
    """Two applications waiting for review and one referred to the risk desk, so the
    queues have something in them: (the submitted ones, the referred one)."""
    ws = ready_workspace(settings)
    ops = ws.actor("ops")
    try:
        loan_ids = []
        for serial, national_id in enumerate((SEEDED_ID, None, None)):
            application = Application.parse(
                product="cash-easy",
                name="赵六",
                national_id=national_id or sample_national_id(date(1988, 8, 8), serial),
                phone="13900001111",
                monthly_income="9000.00",
                amount="6000.00",
                term=6,
                consents="all",
            )
            loan_ids.append(apply(ws, ops, application, BUSINESS_DAY).id)
        start_review(ws, ops, loan_ids[-1], BUSINESS_DAY)
        create_product(ws, ws.actor("pm"), "anxin", "安心借", BUSINESS_DAY)  # a draft product
        return loan_ids[:-1], loan_ids[-1]
    finally:
        ws.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A running console over a prepared workspace (SQLite): every application is
    referred to a person (`LENDFLOW_DECISIONING=manual`), today is 2026-01-05."""
    folder = tmp_path_factory.mktemp("browser")
    settings = Settings(home=folder / "home", today=BUSINESS_DAY, decisioning="manual", user=None)
    submitted, referred = _seed(settings)
    _set_passwords(settings)
    env = {"LENDFLOW_TODAY": BUSINESS_DAY.isoformat(), "LENDFLOW_DECISIONING": "manual"}
    with running_server(settings, folder / "server.log", **env) as url:
        yield Console(url, submitted, referred)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"browser tests need Debian's chromium at {CHROMIUM}: apt-get install chromium",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def sessions() -> dict[str, Any]:
    """Each person's browser state once signed in (cookies), kept for the module: signing
    in spends an Argon2 verification on purpose, so tests that are not about signing in
    open a new context already signed in."""
    return {}


@pytest.fixture
def person(
    chromium: Browser, console: Console, sessions: dict[str, Any]
) -> Iterator[Callable[..., Page]]:
    """person("ops") -> a page in a browser context of its own, signed in as ops (through
    the sign-in form the first time, or always with `through_form=True`), on the work
    queue; person(None) -> one on the sign-in page, signed out."""
    contexts: list[BrowserContext] = []

    def open_as(user: str | None, *, through_form: bool = False) -> Page:
        kept = None if through_form or user is None else sessions.get(user)
        context = chromium.new_context(
            base_url=console.url,
            viewport={"width": 1280, "height": 860},
            locale="zh-CN",
            storage_state=kept,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        if kept is not None:
            page.goto("/console")
            return page
        page.goto("/console/login")
        if user is not None:
            sign_in(page, user)
            page.wait_for_url("**/console")
            sessions[user] = context.storage_state()
        return page

    yield open_as
    for context in contexts:
        context.close()
