"""The one place that wires settings, engine, keys, users, policy and adapters.

Every use case takes a `Workspace`; tests build one on a temporary database with
fakes that implement the real ports (a sandbox gateway), never by patching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from lendflow.access.permissions import Actor, resolve_actor
from lendflow.config.settings import Settings, load_settings
from lendflow.config.users import USERS_FILE_NAME, Directory, default_users_path, load_directory
from lendflow.store.personal_data import PersonalDataCipher
from lendflow.workspace.contracts import ContractRenderer, RenderedContracts
from lendflow.workspace.decisioning import CreditDecider, ManualReview
from lendflow.workspace.payments import PaymentGateway, SandboxGateway
from lendflow.workspace.setup import require_workspace

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from lendflow.config.policy import Policy
    from lendflow.store.reads import Reader

SANDBOX_FILE_NAME = "sandbox_gateway.db"


@dataclass
class Workspace:
    settings: Settings
    policy_path: Path | None = None
    contracts: ContractRenderer = field(default_factory=RenderedContracts)

    @cached_property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made on first use (plain reads never need it)."""
        from lendflow.workspace.setup import open_engine

        return open_engine(self.settings)

    def reader(self) -> Reader:
        """A read-only connection straight through the driver, for plain commands."""
        from lendflow.store.reads import Reader

        return Reader(self.settings.resolved_database_url)

    @cached_property
    def decider(self) -> CreditDecider:
        """Automated review unless the workspace is set to refer every application
        (LENDFLOW_DECISIONING=manual); assign `ws.decider` to plug in another."""
        if self.settings.decisioning == "manual":
            return ManualReview()
        from lendflow.credit.review import AutomatedReview

        return AutomatedReview(self)

    @cached_property
    def gateway(self) -> PaymentGateway:
        """The sandbox gateway unless another was plugged in (assign `ws.gateway`)."""
        return SandboxGateway(self.settings.home / SANDBOX_FILE_NAME)

    @cached_property
    def policy(self) -> Policy:
        from lendflow.config.policy import load_policy  # pydantic models: only when needed

        return load_policy(self.policy_path)

    @cached_property
    def cipher(self) -> PersonalDataCipher:
        return PersonalDataCipher.from_key_file(self.settings.key_file)

    @cached_property
    def directory(self) -> Directory:
        path = self.settings.home / USERS_FILE_NAME
        return load_directory(path if path.exists() else default_users_path())

    def actor(self, name: str | None = None) -> Actor:
        """The acting user: `name`, else LENDFLOW_USER."""
        return resolve_actor(self.directory, name or self.settings.user)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def open_workspace(
    settings: Settings | None = None,
    *,
    gateway: PaymentGateway | None = None,
    policy_path: Path | None = None,
) -> Workspace:
    settings = settings or load_settings()
    require_workspace(settings)
    ws = Workspace(settings=settings, policy_path=policy_path)
    if gateway is not None:
        ws.gateway = gateway
    return ws
