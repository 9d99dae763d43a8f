"""The one place that wires settings, engine, keys, users, policy and adapters.

Every use case takes a `Workspace`; tests build one on a temporary database with
fakes that implement the real ports (a sandbox gateway), never by patching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from lendflow.config.policy import Policy, load_policy
from lendflow.config.settings import Settings, load_settings
from lendflow.config.users import USERS_FILE_NAME, Directory, default_users_path, load_directory
from lendflow.services.auth import Actor, resolve_actor
from lendflow.services.decisioning import CreditDecider, ManualReview
from lendflow.services.documents_port import ContractRenderer, NoContracts
from lendflow.services.payments import PaymentGateway, SandboxGateway
from lendflow.services.workspace import open_engine
from lendflow.store.personal_data import PersonalDataCipher

SANDBOX_FILE_NAME = "sandbox_gateway.db"


@dataclass
class Workspace:
    settings: Settings
    engine: Engine
    policy_path: Path | None = None
    decider: CreditDecider = field(default_factory=ManualReview)
    contracts: ContractRenderer = field(default_factory=NoContracts)

    @cached_property
    def gateway(self) -> PaymentGateway:
        """The sandbox gateway unless another was plugged in (assign `ws.gateway`)."""
        return SandboxGateway(self.settings.home / SANDBOX_FILE_NAME)

    @cached_property
    def policy(self) -> Policy:
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
        self.engine.dispose()


def open_workspace(
    settings: Settings | None = None,
    *,
    gateway: PaymentGateway | None = None,
    policy_path: Path | None = None,
) -> Workspace:
    settings = settings or load_settings()
    engine = open_engine(settings)
    ws = Workspace(settings=settings, engine=engine, policy_path=policy_path)
    if gateway is not None:
        ws.gateway = gateway
    return ws
