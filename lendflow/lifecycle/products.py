"""Products through the lifecycle: create a draft, list, show the pipeline, versions, diff."""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.loading import parse_yaml
from lendflow.domain.criteria import Criterion, all_passed
from lendflow.domain.errors import BadInput, NotFound, Refused
from lendflow.domain.statuses import ProductStatus
from lendflow.lifecycle import records
from lendflow.lifecycle.catalog import STAGE_IDS, STAGES, held_stage
from lendflow.lifecycle.results import (
    DecisionView,
    DiffSide,
    LastRun,
    NewProduct,
    ProductPipeline,
    ProductSummary,
    ProductVersions,
    SpecChange,
    StageRow,
    VersionDiff,
    VersionSummary,
)
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

PRODUCT_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def create_product(ws: Workspace, actor: Actor, code: str, name: str, as_of: date) -> NewProduct:
    """A new product with its first version as a draft, ready for its charter."""
    actor.require(Permission.MANAGE_PRODUCTS, "create products")
    if not PRODUCT_CODE.match(code):
        raise BadInput(
            f"product code must be 2-63 lowercase letters, digits or dashes, got {code!r}"
        )
    name = name.strip()
    if not name or len(name) > 200:
        raise BadInput("product name must be 1 to 200 characters")

    def use_case(uow: UnitOfWork) -> NewProduct:
        if lifecycle_rows.product_exists(uow, code):
            raise Refused(f"product {code} already exists")
        lifecycle_rows.add_product(uow, code, name)
        version_id = lifecycle_rows.add_draft_version(uow, code, 1, actor.name)
        version = records.version_by_id(uow, version_id)
        records.product_event(
            uow,
            version,
            "ProductCreated",
            actor,
            as_of,
            {"name": name},
            trigger="create",
            to_state="draft",
        )
        return NewProduct(code=code, name=name, version=1, state=ProductStatus.DRAFT)

    return run_in_transaction(ws.engine, use_case)


def list_products(ws: Workspace, actor: Actor) -> list[ProductSummary]:
    """Every product with its newest version and where that version stands."""
    actor.require(Permission.READ, "read products")

    def use_case(uow: UnitOfWork) -> list[ProductSummary]:
        listed = []
        for product in lifecycle_rows.all_products(uow):
            versions = lifecycle_rows.versions_of(uow, product["code"])
            live = [v["version"] for v in versions if v["state"] == "live"]
            latest = versions[-1] if versions else None
            listed.append(
                ProductSummary(
                    code=product["code"],
                    name=product["name"],
                    versions=len(versions),
                    latest_version=latest["version"] if latest else None,
                    state=latest["state"] if latest else None,
                    live_version=live[-1] if live else None,
                )
            )
        return listed

    return run_in_transaction(ws.engine, use_case)


def _version_summary(version: dict[str, Any]) -> dict[str, Any]:
    """A version's row as the fields of `VersionSummary` (and the head of a pipeline)."""
    return {
        "version": version["version"],
        "id": version["id"],
        "state": version["state"],
        "sha256": version["spec_sha256"],
        "min_amount": version["min_amount"],
        "max_amount": version["max_amount"],
        "annual_rate": version["annual_rate"],
        "gate_run": version["gate_run_id"],
        "created_by": version["created_by"],
        "created_at": version["created_at"],
    }


def product_versions_view(ws: Workspace, actor: Actor, code: str) -> ProductVersions:
    """Every version of a product, oldest first."""
    actor.require(Permission.READ, "read products")

    def use_case(uow: UnitOfWork) -> ProductVersions:
        product = records.product_row(uow, code)
        return ProductVersions(
            code=code,
            name=product["name"],
            versions=tuple(
                VersionSummary(**_version_summary(v)) for v in lifecycle_rows.versions_of(uow, code)
            ),
        )

    return run_in_transaction(ws.engine, use_case)


def _stage_rows(
    version: dict[str, Any], runs: list[dict[str, Any]], decisions: list[dict[str, Any]]
) -> list[StageRow]:
    """Each stage of the version: passed, at its gate, failed, on hold, killed, open, …"""
    state = version["state"]
    held = held_stage(state)
    killed_at = next((d["stage"] for d in reversed(decisions) if d["decision"] == "kill"), None)
    if state in records.DONE_STATES:
        position = len(STAGE_IDS)
    elif state == "draft":
        position = 0
    elif state == "killed":
        position = STAGE_IDS.index(killed_at) if killed_at else 0
    else:
        position = STAGE_IDS.index(held or state)
    rows = []
    for index, stage in enumerate(STAGES):
        stage_runs = [r for r in runs if r["stage"] == stage.id]
        last = stage_runs[-1] if stage_runs else None
        went = [d for d in decisions if d["stage"] == stage.id and d["decision"] == "go"]
        if index < position:
            status = "passed" if went else "not run"
        elif index > position:
            status = "not started"
        elif state == "killed":
            status = "killed"
        elif held:
            status = "on hold"
        elif version["gate_run_id"] is not None:
            status = "at gate"
        elif last is not None and last["status"] in ("failed", "running"):
            status = last["status"]
        else:
            status = "open"
        decided = [d for d in decisions if d["stage"] == stage.id]
        rows.append(
            StageRow(
                stage=stage.id,
                number=stage.number,
                name_zh=stage.name_zh,
                status=status,
                runs=len(stage_runs),
                last_run=None
                if last is None
                else LastRun(
                    run=last["id"],
                    status=last["status"],
                    run_by=last["run_by"],
                    business_date=last["business_date"],
                    error=last["error"],
                ),
                last_decision=None if not decided else _decision_view(decided[-1]),
            )
        )
    return rows


def _decision_view(decision: dict[str, Any]) -> DecisionView:
    criteria = [Criterion.from_dict(c) for c in records.loads(decision["criteria"])]
    return DecisionView(
        id=decision["id"],
        stage=decision["stage"],
        decision=decision["decision"],
        to_stage=decision["to_stage"],
        from_state=decision["from_state"],
        to_state=decision["to_state"],
        run=decision["run_id"],
        decided_by=decision["decided_by"],
        business_date=decision["business_date"],
        note=decision["note"],
        criteria_passed=all_passed(criteria),
    )


def product_pipeline(
    ws: Workspace, actor: Actor, code: str, version_number: int | None = None
) -> ProductPipeline:
    """A version's way through the stages: each stage's status, runs and gate decisions."""
    actor.require(Permission.READ, "read products")

    def use_case(uow: UnitOfWork) -> ProductPipeline:
        product = records.product_row(uow, code)
        versions = lifecycle_rows.versions_of(uow, code)
        if not versions:
            raise NotFound(f"product {code!r} has no versions")
        if version_number is None:
            version = versions[-1]
        else:
            matching = [v for v in versions if v["version"] == version_number]
            if not matching:
                raise NotFound(f"product {code} has no version {version_number}")
            version = matching[0]
        runs = lifecycle_rows.runs_of(uow, version["id"])
        decisions = lifecycle_rows.decisions_of(uow, version["id"])
        return ProductPipeline(
            code=code,
            name=product["name"],
            **_version_summary(version),
            stages=tuple(_stage_rows(version, runs, decisions)),
            decisions=tuple(_decision_view(d) for d in decisions),
        )

    return run_in_transaction(ws.engine, use_case)


def _flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """A spec as dotted paths to scalar values, so two specs compare field by field."""
    if isinstance(data, dict):
        flat: dict[str, str] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        flat = {}
        for index, value in enumerate(data):
            flat.update(_flatten(value, f"{prefix}[{index}]"))
        return flat
    return {prefix: str(data)}


def diff_versions(ws: Workspace, actor: Actor, code: str, older: int, newer: int) -> VersionDiff:
    """What changed in the spec between two versions: field by field, and as a text diff."""
    actor.require(Permission.READ, "read products")

    def use_case(uow: UnitOfWork) -> dict[str, Any]:
        by_number = {v["version"]: v for v in lifecycle_rows.versions_of(uow, code)}
        if not by_number:
            records.product_row(uow, code)
        for number in (older, newer):
            if number not in by_number:
                raise NotFound(f"product {code} has no version {number}")
        return {v: by_number[v] for v in (older, newer)}

    chosen = run_in_transaction(ws.engine, use_case)
    texts = {n: chosen[n]["spec_yaml"] or "" for n in (older, newer)}
    flat = {n: _flatten(parse_yaml(texts[n]) or {}) for n in (older, newer)}
    fields = sorted(set(flat[older]) | set(flat[newer]))
    changes = tuple(
        SpecChange(field=f, from_=flat[older].get(f), to=flat[newer].get(f))
        for f in fields
        if flat[older].get(f) != flat[newer].get(f)
    )
    lines = list(
        difflib.unified_diff(
            texts[older].splitlines(),
            texts[newer].splitlines(),
            fromfile=f"{code} v{older}",
            tofile=f"{code} v{newer}",
            lineterm="",
        )
    )
    return VersionDiff(
        code=code,
        from_=DiffSide(version=older, state=chosen[older]["state"], has_spec=bool(texts[older])),
        to=DiffSide(version=newer, state=chosen[newer]["state"], has_spec=bool(texts[newer])),
        changes=changes,
        diff=tuple(lines),
    )
