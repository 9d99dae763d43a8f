"""The security test: personal data, masking, roles and hostile inputs, in the sandbox.

Run after the functional test on the book it left: hostile values go in
through the same use cases an operator's command calls, every role that may
not do something is asked to do it, and at the end the raw database files are
searched for every customer's name, national ID and phone in clear.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from markupsafe import escape

from lendflow.credit import desk as credit_desk
from lendflow.customers.views import opened
from lendflow.documents import issuing as documents
from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import BadInput, LendflowError, NotFound, Refused
from lendflow.domain.identity import sample_national_id
from lendflow.domain.money import format_fen
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.rendering.environment import markdown_escape
from lendflow.sandbox.workspace import guarded
from lendflow.store import book_checks
from lendflow.store.personal_data import PersonalDataCipher
from lendflow.store.uow import run_in_transaction

if TYPE_CHECKING:
    from pydantic import BaseModel

    from lendflow.config.product_spec import ProductSpec
    from lendflow.workspace.context import Workspace

SECURITY_CHECKS = (
    "personal_data_encrypted",
    "personal_data_masked",
    "roles_refused",
    "sql_injection_inert",
    "script_injection_escaped",
    "template_injection_inert",
    "oversized_values_rejected",
)
SQL_INJECTION = "Robert'); DROP TABLE customers;--"
SCRIPT_INJECTION = "<script>alert(1)</script>"
TEMPLATE_INJECTION = "{{ ''.__class__.__mro__ }}"
OVERSIZED = 100_000
"""Characters in an oversized text: far past any field's limit."""
HUGE_AMOUNT = "9" * 40
"""An amount of 40 digits: past what any money column can hold."""


@dataclass(frozen=True)
class Hostile:
    """A borrower whose name is an attack, taken through to a paid-out loan and its contract."""

    check: str
    name: str
    loan_id: int | None = None
    error: str | None = None


class SecurityTest:
    """The security checks over one sandbox, on the business date after the book's last."""

    def __init__(self, ws: Workspace, spec: ProductSpec, on: date) -> None:
        self.ws = ws
        self.spec = spec
        self.on = on
        self.ops = ws.actor("ops")
        self.risk = ws.actor("risk")
        self.auditor = ws.actor("auditor")
        self.serial = 900
        self.hostile: dict[str, Hostile] = {}

    def raw_application(self, name: str, **changes: Any) -> dict[str, Any]:
        """An application as typed: text fields, as a command line or a form would send them."""
        self.serial += 1
        age = min(max(38, self.spec.age.min), self.spec.age.max)
        born = date(self.on.year - age - 1, 7, 1 + self.serial % 28)
        raw = {
            "product": self.spec.code,
            "name": name,
            "national_id": sample_national_id(born, self.serial),
            "phone": f"1370000{self.serial:04d}",
            "monthly_income": "100000",
            "amount": format_fen(self.spec.amount.min),
            "term": str(min(self.spec.terms)),
            "purpose": self.spec.purposes[0],
            "employment": "business_owner"
            if self.spec.kind == "small_business"
            else "civil_servant",
            "consents": "all",
        }
        raw.update(changes)
        return raw

    def borrow(self, check: str, name: str) -> Hostile:
        """Apply under a hostile name and take the loan to payout, as any borrower would."""
        try:
            application = Application.parse(**self.raw_application(name))
            loan_id = applications.apply(self.ws, self.ops, application, self.on).id
            view = applications.start_review(self.ws, self.ops, loan_id, self.on)
            if view.status == "under_review":
                applications.approve(self.ws, self.risk, loan_id, self.on, note="checked")
            disbursement.disburse(self.ws, self.ops, loan_id, self.on)
            found = Hostile(check, name, loan_id)
        except LendflowError as exc:
            found = Hostile(check, name, error=f"{type(exc).__name__}: {exc.message}")
        self.hostile[check] = found
        return found

    def contract(self, loan_id: int, fmt: str) -> str:
        """The loan's contract as the risk officer gets it: the borrower's name in clear."""
        return documents.render(
            self.ws,
            self.risk,
            "contract",
            product=None,
            loan_id=loan_id,
            locale=self.ws.settings.locale,
            fmt=fmt,
            as_of=self.on,
        ).content.decode("utf-8")

    def counts(self) -> tuple[int, int, int]:
        """Customers, events and journal lines: what a refused request must leave as it was."""
        return run_in_transaction(self.ws.engine, book_checks.record_counts)

    def refused(self, attempts: dict[str, Callable[[], Any]]) -> tuple[list[str], list[str]]:
        """Run each attempt; (how each was turned away, the ones that were not)."""
        turned, accepted = [], []
        for label, attempt in attempts.items():
            try:
                attempt()
            except (BadInput, Refused, NotFound) as exc:
                turned.append(f"{label}: {type(exc).__name__}")
            except Exception as exc:
                accepted.append(f"{label} broke with {type(exc).__name__}: {exc}")
            else:
                accepted.append(f"{label} was accepted")
        return turned, accepted

    # --- the checks ---------------------------------------------------------------------------

    def sql_injection_inert(self) -> Criterion:
        name = "sql_injection_inert"
        before = self.counts()
        found = self.borrow(name, SQL_INJECTION)
        if found.loan_id is None:
            return Criterion(name, False, f"a borrower named {SQL_INJECTION!r}: {found.error}")
        shown = loan_views.show(self.ws, self.risk, found.loan_id, self.on).customer.name
        after = self.counts()
        turned, accepted = self.refused(
            {
                "as a product code": lambda: applications.apply(
                    self.ws,
                    self.ops,
                    Application.parse(
                        **self.raw_application("试注入", product=f"x{SQL_INJECTION}")
                    ),
                    self.on,
                ),
                "as a purpose": lambda: applications.apply(
                    self.ws,
                    self.ops,
                    Application.parse(**self.raw_application("试注入", purpose=SQL_INJECTION)),
                    self.on,
                ),
                "as a reason code": lambda: applications.reject(
                    self.ws, self.risk, found.loan_id or 0, self.on, SQL_INJECTION
                ),
            }
        )
        problems = list(accepted)
        if shown != SQL_INJECTION:
            problems.append("the name did not come back exactly as given")
        if after[0] != before[0] + 1:
            problems.append(f"customers went from {before[0]} to {after[0]}, not one more")
        figure = (
            f"{SQL_INJECTION!r} as a borrower's name is kept as data: loan {found.loan_id} paid"
            " out, the name read back exactly, the customers table intact ({after[0]} rows);"
            f" {'; '.join(turned)}"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def script_injection_escaped(self) -> Criterion:
        name = "script_injection_escaped"
        found = self.borrow(name, SCRIPT_INJECTION)
        if found.loan_id is None:
            return Criterion(name, False, f"a borrower named {SCRIPT_INJECTION!r}: {found.error}")
        html, markdown = self.contract(found.loan_id, "html"), self.contract(found.loan_id, "md")
        escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
        problems = []
        if SCRIPT_INJECTION in html or escaped not in html:
            problems.append("the HTML contract does not show the name escaped")
        if SCRIPT_INJECTION in markdown or markdown_escape(SCRIPT_INJECTION) not in markdown:
            problems.append("the Markdown contract does not show the name escaped")
        figure = (
            f"{SCRIPT_INJECTION!r} as a borrower's name: loan {found.loan_id} paid out, its"
            f" contract shows the name as text ({escaped} in HTML, escaped in Markdown), no"
            " script element"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def template_injection_inert(self) -> Criterion:
        name = "template_injection_inert"
        found = self.borrow(name, TEMPLATE_INJECTION)
        if found.loan_id is None:
            return Criterion(name, False, f"a borrower named {TEMPLATE_INJECTION!r}: {found.error}")
        html, markdown = self.contract(found.loan_id, "html"), self.contract(found.loan_id, "md")
        problems = []
        printed = (
            ("HTML", html, str(escape(TEMPLATE_INJECTION))),
            ("Markdown", markdown, markdown_escape(TEMPLATE_INJECTION)),
        )
        for fmt, text, as_text in printed:
            if "<class" in text or "&lt;class" in text or as_text not in text:
                problems.append(f"the {fmt} contract evaluated the name instead of printing it")
        turned, accepted = self.refused(
            {
                "as a purpose": lambda: applications.apply(
                    self.ws,
                    self.ops,
                    Application.parse(**self.raw_application("试模板", purpose=TEMPLATE_INJECTION)),
                    self.on,
                ),
            }
        )
        figure = (
            f"{TEMPLATE_INJECTION!r} as a borrower's name: loan {found.loan_id} paid out, its"
            " contract prints the text as given, never evaluated (HTML and Markdown);"
            f" {'; '.join(turned)}"
        )
        return Criterion(
            name, not problems and not accepted, "; ".join([figure, *problems, *accepted])
        )

    def oversized_values_rejected(self) -> Criterion:
        name = "oversized_values_rejected"
        big = "9" * OVERSIZED
        before = self.counts()

        def applying(**changes: Any) -> Callable[[], Any]:
            def attempt() -> Any:
                raw = self.raw_application(changes.pop("name", "试超长"), **changes)
                return applications.apply(self.ws, self.ops, Application.parse(**raw), self.on)

            return attempt

        turned, accepted = self.refused(
            {
                "name": applying(name="名" * OVERSIZED),
                "national ID": applying(national_id=big),
                "phone": applying(phone=big),
                "amount of 40 digits": applying(amount=HUGE_AMOUNT),
                f"amount of {OVERSIZED:,} digits": applying(amount=big),
                "monthly income of 40 digits": applying(monthly_income=HUGE_AMOUNT),
                "monthly debt of 40 digits": applying(monthly_debt=HUGE_AMOUNT),
                "term": applying(term=big),
                "purpose": applying(purpose="p" * OVERSIZED),
                "employment": applying(employment="e" * OVERSIZED),
                "reason code": lambda: applications.reject(
                    self.ws, self.risk, 1, self.on, "R" * OVERSIZED
                ),
            }
        )
        after = self.counts()
        problems = list(accepted)
        if after != before:
            problems.append(f"records changed: customers, events, journal lines {before} → {after}")
        figure = (
            f"{len(turned)} of {len(turned) + len(accepted)} oversized values ({OVERSIZED:,}"
            f" characters) turned away with one line each, nothing stored: {'; '.join(turned)}"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def roles_refused(self) -> Criterion:
        name = "roles_refused"
        loan_id = self.hostile.get("sql_injection_inert", Hostile("", "")).loan_id or 1
        pm, committee = self.ws.actor("pm"), self.ws.actor("committee1")
        document = next((d.id for d in documents.list_documents(self.ws, self.auditor, loan_id)), 1)
        amount = self.spec.amount.min
        before = self.counts()
        turned, accepted = self.refused(
            {
                "an operator approves": lambda: applications.approve(
                    self.ws, self.ops, loan_id, self.on, note="x"
                ),
                "an operator rejects": lambda: applications.reject(
                    self.ws, self.ops, loan_id, self.on, "POLICY"
                ),
                "an auditor repays": lambda: repayments.repay(
                    self.ws, self.auditor, loan_id, amount, self.on
                ),
                "an auditor pays out": lambda: disbursement.disburse(
                    self.ws, self.auditor, loan_id, self.on
                ),
                "a risk officer pays out": lambda: disbursement.disburse(
                    self.ws, self.risk, loan_id, self.on
                ),
                "a product manager takes an application": lambda: applications.apply(
                    self.ws, pm, Application.parse(**self.raw_application("试角色")), self.on
                ),
                "a committee member repays": lambda: repayments.repay(
                    self.ws, committee, loan_id, amount, self.on
                ),
                "an operator runs the audit": lambda: audit.verify(self.ws, self.ops),
                "an operator reads an issued contract": lambda: documents.stored_content(
                    self.ws, self.ops, document
                ),
                "a product manager blocks a person": lambda: credit_desk.block(
                    self.ws, pm, sample_national_id(date(1990, 1, 1), 1), "FRAUD", None, self.on
                ),
            }
        )
        after = self.counts()
        problems = list(accepted)
        wrong = [t for t in turned if not t.endswith(": Forbidden")]
        problems += [f"{t}, not refused for the role (Forbidden)" for t in wrong]
        if after != before:
            problems.append(f"records changed: customers, events, journal lines {before} → {after}")
        figure = (
            f"{len(turned) - len(wrong)} of {len(turned) + len(accepted)} refused by role, nothing"
            f" changed: {', '.join(t.removesuffix(': Refused') for t in turned)}"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def personal_data_masked(self) -> Criterion:
        name = "personal_data_masked"
        loan_id = next(iter(loan_views.ids_in_state(self.ws, self.auditor, "closed")), None)
        if loan_id is None:
            return Criterion(name, False, "no paid-out loan to show")
        clear = loan_views.show(self.ws, self.risk, loan_id, self.on).customer
        secrets = [clear.name, clear.national_id, clear.phone]
        problems, seen = [], []
        for actor in (self.ops, self.auditor):
            outputs = {
                "loan show": _printed(loan_views.show(self.ws, actor, loan_id, self.on).customer),
                "loan list": _printed(
                    *loan_views.list_loans(self.ws, actor, product=self.spec.code)
                ),
                "contract": documents.render(
                    self.ws,
                    actor,
                    "contract",
                    product=None,
                    loan_id=loan_id,
                    locale=self.ws.settings.locale,
                    fmt="html",
                    as_of=self.on,
                ).content.decode("utf-8"),
            }
            for output, text in outputs.items():
                if any(secret in text for secret in secrets):
                    problems.append(f"{actor.name} sees personal data in clear in {output}")
            seen.append(actor.name)
        masked = loan_views.show(self.ws, self.ops, loan_id, self.on).customer
        if self.contract(loan_id, "html").count(clear.name) == 0:
            problems.append("the risk officer's contract does not name the borrower")
        figure = (
            f"loan {loan_id}: {' and '.join(seen)} get the borrower as {masked.name},"
            f" {masked.national_id}, {masked.phone} in loan show, loan list and the"
            " contract; the risk officer gets them in clear"
        )
        return Criterion(name, not problems, "; ".join([figure, *problems]))

    def personal_data_encrypted(self) -> Criterion:
        """No customer's name, national ID or phone in clear anywhere in the database files
        or any table's rows, and the sealed values open only with the sandbox's key."""
        name = "personal_data_encrypted"
        people = self.people()
        secrets = [value.encode("utf-8") for person in people for value in person]
        files = sorted(self.ws.settings.home.glob("*.db*"))
        raw = b"".join(path.read_bytes() for path in files)
        found_raw = sum(1 for secret in secrets if secret in raw)
        dump = self.table_dump()
        found_rows = sum(1 for secret in secrets if secret in dump.text)
        stranger = PersonalDataCipher.from_secret(os.urandom(32))
        sealed = run_in_transaction(self.ws.engine, book_checks.a_sealed_name)
        try:
            stranger.decrypt(sealed, "name", "customers:any")
            opened_by_stranger = True
        except LendflowError:
            opened_by_stranger = False
        problems = []
        if found_raw or found_rows:
            problems.append(
                f"{found_raw} values in the files and {found_rows} in table rows in clear"
            )
        if opened_by_stranger:
            problems.append("another key opened a sealed name")
        figure = (
            f"{len(people)} customers' names, national IDs and phones searched for in"
            f" {len(files)} database files ({len(raw):,} bytes) and {dump.rows:,} rows of"
            f" {dump.tables} tables: none in clear; sealed values (AES-GCM,"
            " v2:…, bound to row and field) do not open with another key"
        )
        return Criterion(name, bool(people) and not problems, "; ".join([figure, *problems]))

    def people(self) -> list[tuple[str, str, str]]:
        """Every customer's personal data, opened with the sandbox's key (to search for it)."""
        cipher = self.ws.cipher
        rows = run_in_transaction(self.ws.engine, book_checks.sealed_personal_data)
        return [opened(row, cipher) for row in rows]

    def table_dump(self) -> book_checks.TableDump:
        """Every row of every table as text: what a copied database would show."""
        return run_in_transaction(self.ws.engine, book_checks.table_dump)

    def checks(self) -> list[Criterion]:
        """The hostile inputs first (they add borrowers), then roles, masking and the search."""
        found = {
            "sql_injection_inert": self.sql_injection_inert,
            "script_injection_escaped": self.script_injection_escaped,
            "template_injection_inert": self.template_injection_inert,
            "oversized_values_rejected": self.oversized_values_rejected,
            "roles_refused": self.roles_refused,
            "personal_data_masked": self.personal_data_masked,
            "personal_data_encrypted": self.personal_data_encrypted,
        }
        results = {name: guarded(name, check) for name, check in found.items()}
        return [results[name] for name in SECURITY_CHECKS]


def security_checks(ws: Workspace, spec: ProductSpec, on: date) -> list[Criterion]:
    return SecurityTest(ws, spec, on).checks()


def _printed(*results: BaseModel) -> str:
    """Results as the CLI prints them with --json (names in Chinese kept, not escaped)."""
    return json.dumps([r.model_dump(mode="json") for r in results], ensure_ascii=False)
