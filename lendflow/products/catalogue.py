"""Product use cases: checking a spec file, importing and activating a version."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.credit_models import FOLDER_NAME as MODELS_FOLDER
from lendflow.config.credit_models import CreditModels, credit_setup_problems, packaged_folder
from lendflow.config.loading import parse_stored_yaml, parse_yaml, read_yaml
from lendflow.config.policy import load_policy
from lendflow.config.product_spec import (
    ProductSpec,
    costliest_loan,
    parse_product,
    policy_problems,
)
from lendflow.domain.errors import BadInput, Problems
from lendflow.domain.statuses import ProductStatus
from lendflow.products.results import ProductCheck, ProductVersion
from lendflow.store import events
from lendflow.store import products as product_store
from lendflow.store.caches import DatabaseCache
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


def check_product_file(
    path: Path, policy_path: Path | None = None, model_folders: list[Path] | None = None
) -> ProductCheck:
    """Check a spec file against the schema, the policy and its credit models (the
    workspace's first, then the packaged ones), collecting every problem."""
    source = str(path)
    try:
        data = read_yaml(path)
        spec = parse_product(data, source)
    except Problems as exc:
        return ProductCheck(file=source, problems=exc.problems)
    except BadInput as exc:
        return ProductCheck(file=source, problems=[exc.message])
    policy = load_policy(policy_path)
    costliest = costliest_loan(spec)  # pricing every term is the slow part: once
    problems = policy_problems(spec, policy, source, costliest)
    folders = [*(model_folders or []), packaged_folder()]
    problems += credit_setup_problems(spec, CreditModels(folders), source)
    return ProductCheck(
        file=source,
        code=spec.code,
        highest_apr=costliest[0].quantize(Decimal("0.01")),
        cap=policy.apr_cap.describe(),
        problems=problems,
    )


@lru_cache(maxsize=256)
def _parse_stored_spec(sha256: str, spec_yaml: str) -> ProductSpec:
    return parse_product(parse_stored_yaml(spec_yaml), f"product spec {sha256[:12]}")


def spec_of(version: Mapping[str, Any]) -> ProductSpec:
    """The spec a product version was stored with (parsed once per process)."""
    return _parse_stored_spec(version["spec_sha256"], version["spec_yaml"])


def version_view(version: Mapping[str, Any]) -> ProductVersion:
    return ProductVersion(
        code=version["product_code"],
        version=version["version"],
        state=version["state"],
        id=version["id"],
        sha256=version["spec_sha256"],
    )


def import_product(
    ws: Workspace, actor: Actor, path: Path, *, activate: bool, as_of: date
) -> ProductVersion:
    """Register a validated spec as a new product version, live if `activate`.

    The admin path for products that already exist outside the gated
    lifecycle. Importing the same spec again changes nothing; activating a
    version retires the previous live one (its loans run off on their terms).
    """
    actor.require(Permission.MANAGE_PRODUCTS, "import products")
    check = check_product_file(path, None, [ws.settings.home / MODELS_FOLDER])
    if not check.ok:
        raise Problems(check.problems)
    text = path.read_text(encoding="utf-8")
    spec = parse_product(parse_yaml(text), str(path))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def use_case(uow: UnitOfWork) -> ProductVersion:
        latest = product_store.latest_version(uow, spec.code)
        if (
            latest
            and latest["spec_sha256"] == digest
            and (latest["state"] == ProductStatus.LIVE or not activate)
        ):
            return version_view(latest)
        product_store.ensure_product(uow, spec.code, spec.name.zh_CN)
        number = product_store.next_version_number(uow, spec.code)
        state = ProductStatus.LIVE if activate else ProductStatus.DRAFT
        version_id = product_store.insert_version(
            uow,
            {
                "product_code": spec.code,
                "version": number,
                "state": state,
                "spec_yaml": text,
                "spec_sha256": digest,
                "min_amount": spec.amount.min,
                "max_amount": spec.amount.max,
                "annual_rate": str(spec.rate.annual),
                "created_by": actor.name,
            },
        )
        retired = product_store.retire_live_versions(uow, spec.code, version_id) if activate else []
        events.append(
            uow,
            events.NewEvent(
                entity="product",
                entity_id=spec.code,
                name="ProductVersionImported",
                actor=actor.name,
                business_date=as_of,
                payload={"version": number, "sha256": digest, "retired_version_ids": retired},
                trigger="import",
                to_state=state,
            ),
        )
        return version_view(product_store.version_by_id(uow, version_id))

    return run_in_transaction(ws.engine, use_case)


class VersionSpecs(DatabaseCache[int, ProductSpec]):
    """Specs of stored product versions, parsed once per process and database.

    Safe to keep for the life of the process: a version's spec never changes once
    stored (the row carries its SHA-256, and nothing updates it).
    """


VERSION_SPECS = VersionSpecs()


def spec_for(uow: UnitOfWork, loan: Mapping[str, Any]) -> ProductSpec:
    """The spec of the version the loan was made under (never the current one)."""
    version_id = loan["product_version_id"]
    return VERSION_SPECS.get_or_make(
        uow, version_id, lambda: spec_of(product_store.version_by_id(uow, version_id))
    )
