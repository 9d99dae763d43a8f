"""Every console page answers every role with its page, a refusal (403) or a redirect,
never an error (500); and every page's HTML passes an accessibility check: a title, one
h1, and a label for every control a person fills in."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from lendflow.lifecycle import runs as stage_runs
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.lifecycle.inputs import capture_inputs
from lendflow.lifecycle.products import create_product
from lendflow.monitoring.tickets import NewTicket, open_ticket
from lendflow.web.console.i18n import MESSAGES
from lendflow.workspace.context import Workspace
from tests.console.console_helpers import OPENING_DAY, Staff
from tests.web.api_helpers import active_loan
from tests.web.conftest import api, as_user  # noqa: F401 - loans made over the API

ROLES = ("admin", "ops", "risk", "auditor", "pm", "committee1")
PAGES = (
    "/console",
    "/console/loans",
    "/console/loans/{loan}",
    "/console/loans/{loan}?tab=events",
    "/console/products",
    "/console/products/cash-easy",
    "/console/products/anxin",
    "/console/products/anxin/stages/charter",
    "/console/products/anxin/stages/research",
    "/console/products/cash-easy/stages/operate",
    "/console/products/cash-easy/stages/improve",
    "/console/products/anxin/stages/charter/runs/{run}",
    "/console/products/anxin/gates/charter",
    "/console/products/cash-easy/gates/operate",
    "/console/products/cash-easy/gates/improve",
    "/console/monitoring",
    "/console/monitoring?product=cash-easy&as_of=2026-03-31",
    "/console/tickets",
    "/console/tickets?show=breached",
    "/console/cob",
    "/console/audit",
    "/console/audit?entity=loan&ref={loan}",
    "/console/audit?entity=product&ref=anxin",
)
CONTROLS = ("input", "select", "textarea")


class PageCheck(HTMLParser):
    """What an accessibility check reads: the head's title, the h1s, the labels and the
    controls a person fills in (an SVG chart's own <title> is not the page's)."""

    def __init__(self) -> None:
        super().__init__()
        self.title: str | None = None
        self.h1 = 0
        self.labelled: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self._in_head_title = False
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "head":
            self._in_head = True
        elif tag == "title" and self._in_head:
            self._in_head_title, self.title = True, ""
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        elif tag in CONTROLS and found.get("type") != "hidden":
            self.controls.append({"tag": tag, **found})

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag == "title":
            self._in_head_title = False

    def handle_data(self, data: str) -> None:
        if self._in_head_title and self.title is not None:
            self.title += data

    def problems(self) -> list[str]:
        found = []
        if not (self.title or "").removesuffix("lendflow").strip(" ·"):
            found.append(f"title {self.title!r} says nothing")
        if self.h1 != 1:
            found.append(f"{self.h1} h1 elements")
        for control in self.controls:
            if control.get("id") not in self.labelled:
                found.append(f"{control['tag']} {control.get('name')!r} has no <label for>")
        return found


def accessibility_problems(html: str) -> list[str]:
    check = PageCheck()
    check.feed(html)
    return check.problems()


@pytest.fixture
def book(as_user: Callable[..., Any], console_ws: Workspace) -> dict[str, int]:  # noqa: F811
    """A paid-out loan with a ticket, a draft product with a run going, for every page to
    have something to show."""
    loan = active_loan(as_user)
    ops, pm = console_ws.actor("ops"), console_ws.actor("pm")
    open_ticket(console_ws, ops, NewTicket("complaint", "charged twice", loan_id=loan), OPENING_DAY)
    create_product(console_ws, pm, "anxin", "安心借", OPENING_DAY)
    inputs = capture_inputs(stage_of("charter"), {}, use_samples=True)
    run = stage_runs.start_run(console_ws, pm, "anxin", "charter", inputs, OPENING_DAY)
    return {"loan": loan, "run": run.context.run_id}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_and_reads_well(
    role: str, book: dict[str, int], browser: Callable[..., Staff]
) -> None:
    person = browser(role)
    for page in PAGES:
        url = page.format(**book)
        answer = person.client.get(url, follow_redirects=False)
        assert answer.status_code in (200, 303, 403), f"{role} {url}: {answer.status_code}"
        if answer.status_code != 303:
            assert accessibility_problems(answer.text) == [], f"{role} {url}"
    person.get("/console/audit")
    verified = person.post("/console/audit/verify")
    assert verified.status_code in (200, 403), verified.text
    assert accessibility_problems(verified.text) == []


def test_the_sign_in_and_error_pages_read_well(browser: Callable[..., Staff]) -> None:
    signed_out = browser(None)
    assert accessibility_problems(signed_out.get("/console/login").text) == []
    missing = browser("ops").get("/console/products/nosuch")
    assert missing.status_code == 404 and accessibility_problems(missing.text) == []


def test_the_checker_finds_what_it_looks_for() -> None:
    bare = "<html><head><title> · lendflow</title></head><body><input name='q'></body></html>"
    assert accessibility_problems(bare) == [
        "title ' · lendflow' says nothing",
        "0 h1 elements",
        "input 'q' has no <label for>",
    ]


def test_both_languages_have_every_word() -> None:
    assert set(MESSAGES["zh-CN"]) == set(MESSAGES["en"])
