"""Document use cases: render a product's or a loan's documents, keep a loan's contract.

Views are built here, where the rows are read and the actor's right to see
personal data is known; the documents package only ever gets plain values. A
loan's contract is rebuilt from its disbursement terms and its product version,
never from rows that repayments later change, so rendering it again from the
same inputs gives the same bytes as the copy kept at disbursement.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.customers import registry as customers
from lendflow.customers.views import opened
from lendflow.documents.results import DocumentPage, IssuedDocument
from lendflow.domain.business_days import NonWorkingDue
from lendflow.domain.errors import BadInput, NotFound, Refused
from lendflow.domain.identity import mask_name, mask_national_id, mask_phone
from lendflow.domain.repayment import InstalmentState
from lendflow.domain.statuses import DISBURSED
from lendflow.products.catalogue import spec_for
from lendflow.store import documents as document_store
from lendflow.store import loans as loan_store
from lendflow.store import products as product_store
from lendflow.store.caches import DatabaseCache
from lendflow.store.personal_data import document_row
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.config.product_spec import ProductSpec
    from lendflow.rendering.views import (
        AccelerationNoticeView,
        ContractView,
        OverdueNoticeView,
        PartyView,
    )
    from lendflow.workspace.context import Workspace

CONTRACT_FORMAT = "html"  # kept at disbursement: printable as is, the PDF is made from it
_SEALED_FIELD = "document"
LOAN_KINDS = ("overdue-notice", "acceleration-notice")
RENDERABLE = ("brochure", "contract", "risk-disclosure", "overdue-notice", "acceleration-notice")


@dataclass(frozen=True)
class RenderedDocument:
    kind: str
    locale: str
    fmt: str
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class IssuableContracts(DatabaseCache[tuple[int, str, Path | None], tuple[str, ...]]):
    """What the contract of each product version would lack (nothing: it can be issued),
    by product version id, locale and template folder, so that disbursement renders a
    product's specimen contract once per process instead of once per loan.

    Safe because a product version row (its spec) never changes once stored, and the
    locale and template folder the answer also depends on are in the key. A template
    file edited while the process runs is seen after `clear()` or a restart.
    """


ISSUABLE = IssuableContracts()


class StoredContracts:
    """The contract renderer disbursement uses: render, seal and store in its transaction."""

    def check_issuable(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], as_of: date
    ) -> None:
        """Refuse, before any money moves, a loan whose product cannot have a complete
        contract. A product version never changes, so each is checked once."""
        from lendflow.rendering.rendering import missing_contents

        locale, templates = ws.settings.locale, ws.settings.templates

        def missing() -> tuple[str, ...]:
            spec, version = spec_for(uow, loan), _version(uow, loan)
            view = _product_view(ws, "contract", spec, version, locale, as_of)
            return tuple(missing_contents("contract", view, locale=locale, templates=templates))

        key = (loan["product_version_id"], locale, templates)
        lacking = ISSUABLE.get_or_make(uow, key, missing)
        if lacking:
            raise Refused(
                f"loan {loan['id']}: its contract cannot be issued, so nothing is paid out:"
                f" missing {', '.join(lacking)}"
            )

    def store_contract(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], actor: Actor, as_of: date
    ) -> dict[str, Any] | None:
        locale = ws.settings.locale
        view = contract_view_for_loan(ws, uow, loan, locale=locale, clear=True)
        document = _render("contract", view, ws, locale, CONTRACT_FORMAT)
        return store(ws, uow, loan, document, actor, as_of)


def store(
    ws: Workspace,
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    document: RenderedDocument,
    actor: Actor,
    as_of: date,
) -> dict[str, Any]:
    """Keep a loan's document as issued, sealed, with its SHA-256 (of the clear bytes)."""
    return keep_packed(ws, uow, loan, pack(document), actor.name, as_of)


@dataclass(frozen=True)
class PackedDocument:
    """A rendered document compressed for keeping, with the SHA-256 and size of its clear
    bytes: what a worker process that renders hands back (it never holds the key)."""

    kind: str
    locale: str
    media_type: str
    sha256: str
    size: int
    packed: str  # base64 of the zlib-compressed bytes


def pack(document: RenderedDocument) -> PackedDocument:
    return PackedDocument(
        document.kind,
        document.locale,
        document.media_type,
        document.sha256,
        len(document.content),
        base64.b64encode(zlib.compress(document.content, 9)).decode("ascii"),
    )


def keep_packed(
    ws: Workspace,
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    document: PackedDocument,
    actor: str,
    as_of: date,
) -> dict[str, Any]:
    """Seal a packed document under the workspace key, bound to its loan, kind and date,
    and keep it."""
    values = sealed_row(ws, loan, document, actor, as_of)
    document_id = document_store.keep(uow, values)
    return {
        "document_id": document_id,
        "sha256": document.sha256,
        "media_type": document.media_type,
    }


def sealed_row(
    ws: Workspace,
    loan: Mapping[str, Any],
    document: PackedDocument,
    actor: str,
    as_of: date,
) -> dict[str, Any]:
    """The `documents` row of a packed document, sealed under the workspace key and bound
    to its loan, kind and date."""
    return {
        "loan_id": loan["id"],
        "product_code": loan["product_code"],
        "kind": document.kind,
        "locale": document.locale,
        "media_type": document.media_type,
        "sha256": document.sha256,
        "size": document.size,
        "content_enc": ws.cipher.encrypt(
            document.packed, _SEALED_FIELD, document_row(loan["id"], document.kind, as_of)
        ),
        "business_date": as_of,
        "actor": actor,
    }


def stored_content(ws: Workspace, actor: Actor, document_id: int) -> tuple[IssuedDocument, bytes]:
    """A kept document as issued (personal data in it: only for roles that may see it)."""
    actor.require(Permission.SEE_PERSONAL_DATA, "read issued documents")

    def use_case(uow: UnitOfWork) -> tuple[IssuedDocument, bytes]:
        row = document_store.get(uow, document_id)
        if row is None:
            raise NotFound(f"document {document_id} does not exist")
        content = sealed_content(ws, row)
        if hashlib.sha256(content).hexdigest() != row["sha256"]:
            raise Refused(f"document {document_id} does not match its SHA-256: tampered record")
        return _listed(row), content

    return run_in_transaction(ws.engine, use_case)


def sealed_content(ws: Workspace, row: Mapping[str, Any]) -> bytes:
    """The clear bytes of a kept document's sealed `content_enc` (the audit hashes them)."""
    bound = document_row(row["loan_id"], row["kind"], row["business_date"])
    packed = ws.cipher.decrypt(row["content_enc"], _SEALED_FIELD, bound)
    return zlib.decompress(base64.b64decode(packed))


def list_documents(ws: Workspace, actor: Actor, loan_id: int) -> list[IssuedDocument]:
    """Every document kept for a loan, in the order they were kept."""
    return page_documents(ws, actor, loan_id, limit=None).items


def page_documents(
    ws: Workspace, actor: Actor, loan_id: int, *, offset: int = 0, limit: int | None = 50
) -> DocumentPage:
    """One page of the documents kept for a loan (all of them without a `limit`), with
    how many it has in all."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> DocumentPage:
        loan_store.get(uow, loan_id)
        total, rows = document_store.page_for_loan(uow, loan_id, offset, limit)
        return DocumentPage(total=total, items=[_listed(row) for row in rows])

    return run_in_transaction(ws.engine, use_case)


def _listed(row: Mapping[str, Any]) -> IssuedDocument:
    return IssuedDocument(
        id=row["id"],
        loan_id=row["loan_id"],
        kind=row["kind"],
        locale=row["locale"],
        media_type=row["media_type"],
        size=row["size"],
        sha256=row["sha256"],
        business_date=row["business_date"],
        actor=row["actor"],
    )


def render(
    ws: Workspace,
    actor: Actor,
    kind: str,
    *,
    product: str | None,
    loan_id: int | None,
    locale: str,
    fmt: str,
    as_of: date,
) -> RenderedDocument:
    """A product's document (brochure, risk disclosure, specimen contract) or a loan's."""
    from lendflow.rendering.rendering import check_format

    actor.require(Permission.READ, "read documents")
    if kind not in RENDERABLE:
        raise BadInput(f"unknown document kind {kind!r} (choose {', '.join(RENDERABLE)})")
    check_format(fmt)
    if loan_id is None and (kind in LOAN_KINDS):
        raise BadInput(f"{kind} is a loan's document: give --loan")
    if loan_id is None and product is None:
        raise BadInput(f"{kind}: give --product (or --loan)")

    def use_case(uow: UnitOfWork) -> Any:
        if loan_id is not None:
            loan = loan_store.get(uow, loan_id)
            if product is not None and product != loan["product_code"]:
                raise BadInput(f"loan {loan_id} is a {loan['product_code']} loan, not {product}")
            clear = actor.can(Permission.SEE_PERSONAL_DATA)
            if kind == "contract":
                return contract_view_for_loan(ws, uow, loan, locale=locale, clear=clear)
            if kind == "overdue-notice":
                return overdue_notice_view(ws, uow, loan, as_of, locale=locale, clear=clear)
            if kind == "acceleration-notice":
                return acceleration_notice_view(ws, uow, loan, as_of, locale=locale, clear=clear)
            return _product_view(ws, kind, spec_for(uow, loan), _version(uow, loan), locale, as_of)
        version = product_store.live_version(uow, str(product))
        from lendflow.products.catalogue import spec_of

        return _product_view(ws, kind, spec_of(version), version["version"], locale, as_of)

    view = run_in_transaction(ws.engine, use_case)
    return _render(kind, view, ws, locale, fmt)


def product_document_problems(
    ws: Workspace, spec: ProductSpec, *, version: int, as_of: date
) -> list[str]:
    """Everything a product's brochure, specimen contract and risk disclosure would lack,
    in both locales, as values: the product design gate's check."""
    from lendflow.rendering.filters import LOCALES
    from lendflow.rendering.rendering import missing_contents

    problems: list[str] = []
    for kind in ("brochure", "contract", "risk-disclosure"):
        for locale in LOCALES:
            view = _product_view(ws, kind, spec, version, locale, as_of)
            found = missing_contents(kind, view, locale=locale, templates=ws.settings.templates)
            problems += [f"{kind} ({locale}): {problem}" for problem in found]
    return problems


def _render(kind: str, view: Any, ws: Workspace, locale: str, fmt: str) -> RenderedDocument:
    from lendflow.rendering.rendering import MEDIA_TYPES, render_kind

    content = render_kind(kind, view, locale=locale, fmt=fmt, templates=ws.settings.templates)
    return RenderedDocument(kind, locale, fmt, MEDIA_TYPES[fmt], content)


def _version(uow: UnitOfWork, loan: Mapping[str, Any]) -> int:
    return int(product_store.version_by_id(uow, loan["product_version_id"])["version"])


def _calendar_of(ws: Workspace, spec: ProductSpec) -> dict[str, Any]:
    """The workspace's calendar for a product whose due dates move, else nothing (so a
    product that ignores the calendar never loads it)."""
    if spec.schedule.non_working_due is NonWorkingDue.MOVE:
        return {"calendar": ws.calendar}
    return {}


def _product_view(
    ws: Workspace, kind: str, spec: ProductSpec, version: int, locale: str, as_of: date
) -> Any:
    from lendflow.rendering import product_views
    from lendflow.rendering.lender import lender_view

    lender = lender_view(locale, ws.settings.templates)
    calendar = _calendar_of(ws, spec)
    if kind == "brochure":
        return product_views.brochure_view(
            spec, ws.policy, lender, locale=locale, version=version, as_of=as_of, **calendar
        )
    if kind == "risk-disclosure":
        return product_views.risk_disclosure_view(
            spec, ws.policy, lender, locale=locale, version=version, as_of=as_of, **calendar
        )
    return product_views.contract_view(
        spec, ws.policy, lender, locale=locale, version=version, signed_on=as_of, **calendar
    )


def contract_view_for_loan(
    ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], *, locale: str, clear: bool
) -> ContractView:
    """The loan's contract on its disbursement terms; the borrower in clear only if `clear`."""
    from lendflow.rendering import product_views
    from lendflow.rendering.lender import lender_view

    if loan["state"] not in DISBURSED or loan["disbursed_on"] is None:
        raise Refused(
            f"loan {loan['id']} is {loan['state']}; its contract is issued at disbursement"
            " (render the product's specimen with --product)"
        )
    terms = product_views.LoanTerms(
        loan_id=loan["id"],
        principal=loan["principal"],
        term=loan["term"],
        annual_rate=Decimal(loan["annual_rate"]),
        disbursed_on=loan["disbursed_on"],
        purpose=loan["purpose"],
    )
    return product_views.contract_view(
        spec_for(uow, loan),
        ws.policy,
        lender_view(locale, ws.settings.templates),
        locale=locale,
        version=_version(uow, loan),
        signed_on=loan["disbursed_on"],
        loan=terms,
        borrower=_borrower(ws, uow, loan, clear=clear),
        **_calendar_of(ws, spec_for(uow, loan)),
        waived_interest=tuple(
            (row["n"], row["interest_waived"])
            for row in loan_store.instalments(uow, loan["id"])
            if row["interest_waived"]
        ),
    )


@dataclass(frozen=True)
class NoticeReads:
    """The schedules (by loan id) and borrowers (by customer id) of many notices, read at
    once: a night's notices would otherwise read them one loan at a time."""

    schedules: Mapping[int, list[dict[str, Any]]]
    borrowers: Mapping[int, dict[str, Any]]

    @classmethod
    def of(cls, uow: UnitOfWork, loans: Iterable[Mapping[str, Any]]) -> NoticeReads:
        loans = list(loans)
        return cls(
            loan_store.instalments_of_many(uow, [loan["id"] for loan in loans]),
            customers.get_many(uow, sorted({loan["customer_id"] for loan in loans})),
        )


def overdue_notice_view(
    ws: Workspace,
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    as_of: date,
    *,
    locale: str,
    clear: bool = True,
    read: NoticeReads | None = None,
) -> OverdueNoticeView:
    """What is overdue on `as_of` (due before it and unpaid), for the borrower's notice.

    Close of business calls this inside its own transaction for the notices it
    records, then `lendflow.documents.render_overdue_notice`, with the schedules and
    borrowers of all the chunk's notices read at once (`read`).
    """
    from lendflow.rendering.views import OverdueNoticeView

    schedule = read.schedules[loan["id"]] if read else loan_store.instalments(uow, loan["id"])
    states = [InstalmentState.from_row(r) for r in schedule]
    late = [(i.due_date, i.owed()) for i in states if i.due_date < as_of and not i.settled]
    if not late:
        raise Refused(f"loan {loan['id']} has nothing overdue on {as_of}")
    since = min(due for due, _ in late)
    borrower = read.borrowers.get(loan["customer_id"]) if read else None
    owed = [o for _, o in late]
    return OverdueNoticeView(
        number=f"LF-N-{loan['id']:08d}-{as_of:%Y%m%d}",
        **_notice_parts(ws, uow, loan, as_of, locale, clear, owed, borrower),
        dpd=(as_of - since).days,
        overdue_since=since,
    )


def _notice_parts(
    ws: Workspace,
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    as_of: date,
    locale: str,
    clear: bool,
    owed: list[Any],
    borrower: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What every notice to a borrower about money owed says: who to whom, under which
    contract, the amounts `owed` by component, and the penalty and collection terms
    (`borrower`: the customer's row, if already read)."""
    from lendflow.rendering import product_views
    from lendflow.rendering.lender import lender_view

    spec = spec_for(uow, loan)
    parts = {
        "principal": sum(o.principal for o in owed),
        "interest": sum(o.interest for o in owed),
        "fees": sum(o.fee for o in owed),
        "penalty": sum(o.penalty for o in owed),
    }
    return {
        "loan_id": loan["id"],
        "contract_number": product_views.contract_number(loan["id"]),
        "product_name": spec.name.en if locale == "en" else spec.name.zh_CN,
        "lender": lender_view(locale, ws.settings.templates),
        "borrower": _borrower(ws, uow, loan, clear=clear, row=borrower),
        "as_of": as_of,
        **parts,
        "total": sum(parts.values()),
        "penalty_terms": product_views.penalty_view(spec, ws.policy),
        "collection": product_views.collection_view(ws.policy),
    }


def acceleration_notice_view(
    ws: Workspace,
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    as_of: date,
    *,
    locale: str,
    clear: bool = True,
) -> AccelerationNoticeView:
    """What the whole loan comes to on `as_of`, the day it is declared due: every
    instalment due by then and unpaid (the accelerated ones fall due that day)."""
    from lendflow.rendering.views import AccelerationNoticeView

    states = [InstalmentState.from_row(r) for r in loan_store.instalments(uow, loan["id"])]
    due = [(i.due_date, i.owed()) for i in states if i.due_date <= as_of and not i.settled]
    late = [when for when, _ in due if when < as_of]
    if not late:
        raise Refused(f"loan {loan['id']} has nothing overdue on {as_of}")
    return AccelerationNoticeView(
        number=f"LF-A-{loan['id']:08d}-{as_of:%Y%m%d}",
        **_notice_parts(ws, uow, loan, as_of, locale, clear, [o for _, o in due]),
        dpd=loan["dpd"],
        overdue_since=min(late),
    )


def issue_acceleration_notice(
    ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], actor: Actor, as_of: date
) -> dict[str, Any]:
    """Render the borrower's notice that the loan is declared due and keep it as issued,
    sealed, with its SHA-256, in the caller's transaction (the stored row)."""
    locale = ws.settings.locale
    view = acceleration_notice_view(ws, uow, loan, as_of, locale=locale, clear=True)
    document = _render("acceleration-notice", view, ws, locale, "html")
    return store(ws, uow, loan, document, actor, as_of)


def _borrower(
    ws: Workspace,
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    *,
    clear: bool,
    row: Mapping[str, Any] | None = None,
) -> PartyView:
    from lendflow.rendering.views import PartyView

    if row is None:
        row = customers.get(uow, loan["customer_id"])
    name, national_id, phone = opened(row, ws.cipher)
    if not clear:
        name, national_id, phone = mask_name(name), mask_national_id(national_id), mask_phone(phone)
    return PartyView(name=name, national_id=national_id, phone=phone)


def issue_contract_supplement(
    ws: Workspace,
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    actor: Actor,
    as_of: date,
    figures: Mapping[str, Any],
    schedule: list[tuple[int, date, int, int, int]],
) -> dict[str, Any]:
    """Render the contract supplement a partial prepayment issues (what came back, what
    the recalculation did, the new schedule) and keep it as issued, sealed, with its
    SHA-256, in the caller's transaction (the stored row). `figures` are the
    recalculation's, in fen."""
    from lendflow.rendering import product_views
    from lendflow.rendering.lender import lender_view
    from lendflow.rendering.views import ContractSupplementView, SupplementRowView

    locale = ws.settings.locale
    spec = spec_for(uow, loan)
    view = ContractSupplementView(
        number=f"LF-S-{loan['id']:08d}-{figures['version']:02d}",
        loan_id=loan["id"],
        contract_number=product_views.contract_number(loan["id"]),
        product_name=spec.name.en if locale == "en" else spec.name.zh_CN,
        lender=lender_view(locale, ws.settings.templates),
        borrower=_borrower(ws, uow, loan, clear=True),
        as_of=as_of,
        schedule=tuple(SupplementRowView(*row) for row in schedule if row[0] > 0),
        **figures,
    )
    document = _render("contract-supplement", view, ws, locale, "html")
    return store(ws, uow, loan, document, actor, as_of)
