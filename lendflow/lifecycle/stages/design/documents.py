"""The product documents a design run keeps: brochure, specimen contract, risk disclosure.

The design gate checks that each renders with every required content
(design_controls); the run also keeps the HTML of each, in both locales, with
its SHA-256, so the committee decides on the very documents customers would
get and they can be had again exactly as checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.business_days import NonWorkingDue
from lendflow.domain.errors import LendflowError, NotFound
from lendflow.lifecycle import records
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.config.product_spec import ProductSpec
    from lendflow.workspace.context import Workspace

KINDS = ("brochure", "contract", "risk-disclosure")
FORMAT = "html"


def product_document(
    ws: Workspace, spec: ProductSpec, kind: str, locale: str, *, version: int, as_of: date
) -> bytes:
    """One product document as HTML; refused, naming what is missing, when it is incomplete."""
    from lendflow.rendering import product_views
    from lendflow.rendering.lender import lender_view
    from lendflow.rendering.rendering import render_kind

    lender = lender_view(locale, ws.settings.templates)
    moves = spec.schedule.non_working_due is NonWorkingDue.MOVE
    calendar: dict[str, Any] = {"calendar": ws.calendar} if moves else {}
    view: Any
    if kind == "brochure":
        view = product_views.brochure_view(
            spec, ws.policy, lender, locale=locale, version=version, as_of=as_of, **calendar
        )
    elif kind == "risk-disclosure":
        view = product_views.risk_disclosure_view(
            spec, ws.policy, lender, locale=locale, version=version, as_of=as_of, **calendar
        )
    else:
        view = product_views.contract_view(
            spec, ws.policy, lender, locale=locale, version=version, signed_on=as_of, **calendar
        )
    return render_kind(kind, view, locale=locale, fmt=FORMAT, templates=ws.settings.templates)


def render_product_documents(
    ws: Workspace, spec: ProductSpec, *, version: int, as_of: date
) -> list[dict[str, Any]]:
    """Every product document in every locale that renders complete, ready to store.

    One that cannot be issued is left out: the gate's `documents_complete` check
    names what it lacks.
    """
    from lendflow.rendering.filters import LOCALES

    kept = []
    for kind in KINDS:
        for locale in LOCALES:
            try:
                content = product_document(ws, spec, kind, locale, version=version, as_of=as_of)
            except LendflowError:
                continue
            kept.append(
                {
                    "kind": kind,
                    "locale": locale,
                    "file": f"{spec.code}-v{version}-{kind}.{locale}.{FORMAT}",
                    "media_type": "text/html",
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "size": len(content),
                    "content": content.decode("utf-8"),
                }
            )
    return kept


def listed(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents without their content: what a listing or a report shows."""
    return [{k: v for k, v in d.items() if k != "content"} for d in documents]


def stored_documents(
    ws: Workspace, actor: Actor, code: str, run_id: int | None = None
) -> list[dict[str, Any]]:
    """The documents a design run kept (the newest successful run unless one is named)."""
    actor.require(Permission.READ, "read product stages")

    def use_case(uow: UnitOfWork) -> list[dict[str, Any]]:
        version = records.latest_version(uow, code)
        chosen: Mapping[str, Any] | None
        if run_id is None:
            done = [
                r
                for r in lifecycle_rows.runs_of(uow, version["id"], "design")
                if r["status"] == "succeeded"
            ]
            chosen = done[-1] if done else None
        else:
            chosen = records.run_row(uow, run_id)
            if chosen["product_code"] != code or chosen["stage"] != "design":
                chosen = None
        if chosen is None:
            which = "no successful design run" if run_id is None else f"no design run {run_id}"
            raise NotFound(f"{records.label(version)} has {which}")
        outputs = records.loads(chosen["outputs"]) or {}
        return list(outputs.get("documents", []))

    return run_in_transaction(ws.engine, use_case)
