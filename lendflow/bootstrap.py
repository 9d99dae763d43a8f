"""The one composition root: settings in; a workspace with its engine, cipher, payment
gateway, credit decider, contract renderer and credit reference system out.

The CLI, the flows (tasks on Dask workers too), the sandbox, the benchmarks and the
tests all get their workspace here, so there is one place that decides which adapter
sits behind each port. Creating a workspace (home, key, schema) lives here too.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendflow.config.settings import Settings, load_settings
from lendflow.config.users import USERS_FILE_NAME, default_users_path
from lendflow.domain.errors import BadInput
from lendflow.store.personal_data import (
    PersonalDataCipher,
    customer_row,
    key_fingerprint,
    require_private,
)
from lendflow.workspace.context import (
    SANDBOX_FILE_NAME,
    Workspace,
    require_workspace,
    verify_key,
    workspace_secret,
)
from lendflow.workspace.credit_bureau import FileBureau
from lendflow.workspace.decisioning import CreditDecider, ManualReview

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from lendflow.access.permissions import Actor
    from lendflow.store.uow import UnitOfWork
    from lendflow.workspace.payments import PaymentGateway

__all__ = [
    "SANDBOX_FILE_NAME",
    "RenderedContracts",
    "WorkspaceReport",
    "init_workspace",
    "open_workspace",
    "require_workspace",
    "workspace_for",
]

KEY_BYTES = 32


class RenderedContracts:
    """Contracts rendered and kept at disbursement (documents.issuing), imported on
    first use, since plain commands that never disburse should not pay for Jinja."""

    def store_contract(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], actor: Actor, as_of: date
    ) -> dict[str, Any] | None:
        from lendflow.documents.issuing import StoredContracts

        return StoredContracts().store_contract(ws, uow, loan, actor, as_of)

    def check_issuable(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], as_of: date
    ) -> None:
        from lendflow.documents.issuing import StoredContracts

        StoredContracts().check_issuable(ws, uow, loan, as_of)


def configured_decider(ws: Workspace) -> CreditDecider:
    """Automated review unless the workspace is set to refer every application
    (LENDFLOW_DECISIONING=manual)."""
    if ws.settings.decisioning == "manual":
        return ManualReview()
    from lendflow.credit.review import AutomatedReview

    return AutomatedReview(ws)


def _close_loan_days(
    ws: Workspace,
    uow: UnitOfWork,
    loan_id: int,
    first: date,
    last: date,
    actor: str,
    quiet: bool = False,
) -> None:
    """Close of business for one loan, day by day, inside the caller's transaction."""
    from lendflow.close_of_business.sweep import close_loan_days

    close_loan_days(ws, uow, loan_id, first, last, actor, quiet)


def workspace_for(
    settings: Settings,
    *,
    gateway: PaymentGateway | None = None,
    policy_path: Path | None = None,
) -> Workspace:
    """A workspace wired with the configured adapters, whether or not it exists yet."""
    ws = Workspace(
        settings=settings,
        policy_path=policy_path,
        contracts=RenderedContracts(),
        make_decider=configured_decider,
        close_loan_days=_close_loan_days,
        credit_bureau=FileBureau,
    )
    if gateway is not None:
        ws.gateway = gateway
    return ws


def open_workspace(
    settings: Settings | None = None,
    *,
    gateway: PaymentGateway | None = None,
    policy_path: Path | None = None,
) -> Workspace:
    """The workspace named by `settings` (else the environment); it must exist."""
    settings = settings or load_settings()
    require_workspace(settings)
    return workspace_for(settings, gateway=gateway, policy_path=policy_path)


@dataclass(frozen=True)
class WorkspaceReport:
    """What `init` found and did, so a second run can say it changed nothing."""

    home: Path
    database_url: str
    revision: str
    key_created: bool
    home_created: bool
    users_seeded: int = 0


def ensure_key_file(path: Path) -> bool:
    """Create the workspace secret (32 random bytes, hex) with mode 0600 if missing.

    The key encrypts personal data and keys its look-up hashes; losing it makes
    stored names and ID numbers unreadable, so an existing key is never replaced
    (and `init_workspace` writes none for a database that was sealed already).
    """
    if path.exists():
        require_private(path)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    return True


def init_workspace(settings: Settings) -> WorkspaceReport:
    """Create the home, the key and the database schema; safe to run again.

    A database that already holds sealed data or a key fingerprint is never given a
    new key: the lost one is what opens it, so init refuses and says where to get it.
    """
    home_created = not settings.home.exists()
    settings.home.mkdir(parents=True, exist_ok=True)
    from lendflow.store.engine import make_engine, redact_url
    from lendflow.store.migrate import upgrade_to_head  # alembic is slow to import: only here

    engine = make_engine(settings.resolved_database_url)
    try:
        recorded, holds_data = _sealed_state(engine)
        if not settings.key_file.exists() and (recorded or holds_data):
            raise BadInput(
                f"{settings.key_file} is missing but the database holds data sealed with it:"
                " restore secret.key from backup, or `lendflow restore DIR`"
                " (init never writes a new key over sealed data)"
            )
        key_created = ensure_key_file(settings.key_file)
        users = settings.home / USERS_FILE_NAME
        if not users.exists():
            shutil.copyfile(default_users_path(), users)
        revision = upgrade_to_head(engine)
        _record_key(engine, settings, recorded, holds_data)
        seeded = _seed_users(engine, users)
    finally:
        engine.dispose()
    return WorkspaceReport(
        home=settings.home,
        database_url=redact_url(settings.resolved_database_url),
        revision=revision,
        key_created=key_created,
        home_created=home_created,
        users_seeded=seeded,
    )


def _seed_users(engine: Engine, users: Path) -> int:
    """Seed an empty `users` table from the workspace's users.yaml; from then on the
    table is the directory and users.yaml is never read again for it."""
    from lendflow.config.users import load_directory
    from lendflow.identity.users import seed

    return seed(engine, load_directory(users), datetime.now(UTC))


def _sealed_state(engine: Engine) -> tuple[str | None, bool]:
    from lendflow.store.keys import sealed_state

    return sealed_state(engine)


def _record_key(engine: Engine, settings: Settings, recorded: str | None, holds: bool) -> None:
    """Record the key's fingerprint in a database that has none yet, once the key is
    shown to open what is stored; refuse a key that is not the recorded one."""
    from lendflow.store import keys
    from lendflow.store.uow import run_in_transaction

    secret = workspace_secret(settings)
    fingerprint = key_fingerprint(secret)
    if recorded is not None:
        verify_key(settings, fingerprint)
        return
    if holds:
        _prove_key_opens(engine, settings, secret)
    run_in_transaction(engine, lambda uow: keys.record_fingerprint(uow, fingerprint))


def _prove_key_opens(engine: Engine, settings: Settings, secret: bytes) -> None:
    """A database sealed before fingerprints were recorded: its first customer's name
    must open with this key, else it is some other key and must not be recorded."""
    from lendflow.store.keys import first_sealed_customer

    row = first_sealed_customer(engine)
    if row is None:
        return
    cipher = PersonalDataCipher.from_secret(secret)
    try:
        cipher.decrypt(row["name_enc"], "name", customer_row(row["id_hash"]))
    except BadInput:
        raise BadInput(
            f"{settings.key_file} does not open the personal data already stored:"
            " restore secret.key from backup, or `lendflow restore DIR`"
        ) from None
