"""The workspace a use case runs in: settings, the database, keys, users, policy and ports.

Use cases take a `Workspace` and never build one: `lendflow.bootstrap` wires it (the
one composition root), choosing the adapters behind each port. Everything here is
made on first use, so a plain command that never writes pays for nothing it skips.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from lendflow.access.permissions import Actor, actor_of_row, require_name, resolve_actor
from lendflow.config.settings import Settings
from lendflow.config.users import USERS_FILE_NAME, Directory, load_directory
from lendflow.domain.errors import BadInput
from lendflow.store.personal_data import (
    PersonalDataCipher,
    key_fingerprint,
    read_secret,
    require_private,
)
from lendflow.workspace.credit_bureau import CreditBureau, FileBureau
from lendflow.workspace.decisioning import CreditDecider, ManualReview
from lendflow.workspace.payments import PaymentGateway, SandboxGateway
from lendflow.workspace.presence import require_workspace

if TYPE_CHECKING:
    from lendflow.config.policy import Policy
    from lendflow.domain.business_days import BusinessCalendar
    from lendflow.store.engine import Engine
    from lendflow.store.reads import Reader
    from lendflow.store.uow import UnitOfWork

SANDBOX_FILE_NAME = "sandbox_gateway.db"
NEW_KEY_SUFFIX = ".new"

BUSINESS_TIME_ZONE = ZoneInfo("Asia/Shanghai")


def real_today(settings: Settings) -> date:
    """The real date where the lender operates: LENDFLOW_TODAY, else the system clock.

    Not a business date: it only bounds them (nothing is dated beyond it plus the
    policy's horizon, and close of business never closes a day that has not come).
    """
    return settings.today or datetime.now(BUSINESS_TIME_ZONE).date()


class ContractRenderer(Protocol):
    """The seam through which disbursement keeps a loan's contract.

    Disbursement calls `store_contract` inside its own transaction, so the loan becomes
    active with its contract stored or not at all. bootstrap plugs in the real renderer
    (documents.issuing); `NoContracts` keeps nothing, for benchmarks and tests that
    measure the loan engine alone.
    """

    def store_contract(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], actor: Actor, as_of: date
    ) -> dict[str, Any] | None:
        """Render and store the loan's contract; return {id, sha256, media_type} or None."""
        ...

    def check_issuable(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], as_of: date
    ) -> None:
        """Refuse a loan whose contract could not be complete, before the payout."""
        ...


class NoContracts:
    def store_contract(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], actor: Actor, as_of: date
    ) -> dict[str, Any] | None:
        return None

    def check_issuable(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], as_of: date
    ) -> None:
        return None


class LoanDayCloser(Protocol):
    """The seam through which reprocessing a loan closes its days again.

    Loans and close of business are independent contexts; a backdated repayment
    needs the night's steps for one loan, inside its own transaction. bootstrap plugs
    in `close_of_business.sweep.close_loan_days`.
    """

    def __call__(
        self,
        ws: Workspace,
        uow: UnitOfWork,
        loan_id: int,
        first: date,
        last: date,
        actor: str,
        quiet: bool = False,
    ) -> None: ...


def _not_wired(
    ws: Workspace,
    uow: UnitOfWork,
    loan_id: int,
    first: date,
    last: date,
    actor: str,
    quiet: bool = False,
) -> None:
    raise BadInput("this workspace cannot reprocess loans: open it through lendflow.bootstrap")


def _refer_everything(_ws: Workspace) -> CreditDecider:
    return ManualReview()


@dataclass
class Workspace:
    """One lender's book and its configuration, as a use case sees it.

    `contracts` and `make_decider` are the seams bootstrap fills: by default a
    workspace keeps no contracts and refers every application to a person, so a
    workspace built by hand can never decide or issue anything by accident.
    """

    settings: Settings
    policy_path: Path | None = None
    contracts: ContractRenderer = field(default_factory=NoContracts)
    make_decider: Callable[[Workspace], CreditDecider] = _refer_everything
    close_loan_days: LoanDayCloser = _not_wired
    credit_bureau: Callable[[Path], CreditBureau] = FileBureau
    """The credit reference system's adapter for a destination (the file adapter: the
    file to write a month's records to); bootstrap chooses it."""
    clock: Callable[[], date] | None = None
    """The real date, injectable (a simulation moves it day by day); default `real_today`."""

    def today(self) -> date:
        """The real date business dates are bounded by (see `real_today`)."""
        return self.clock() if self.clock is not None else real_today(self.settings)

    @cached_property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made on first use (plain reads never need it)."""
        require_workspace(self.settings)
        self.cipher  # noqa: B018 - the key must be the one that sealed this database
        from lendflow.store.engine import open_at_head
        from lendflow.store.schema_version import HEAD_REVISION

        engine = open_at_head(self.settings.resolved_database_url, HEAD_REVISION)
        self._register_chain_key(str(engine.url))
        return engine

    def _register_chain_key(self, database: str) -> None:
        """Give the store the event chain's key for this database (derived from the
        workspace secret), so every event written through the engine is keyed. Without
        a key file nothing is registered and writing an event is refused."""
        from lendflow.store.events import chain_key, register_chain_key
        from lendflow.store.personal_data import read_secret

        if self.settings.key_file.exists():
            register_chain_key(database, chain_key(read_secret(self.settings.key_file)))

    def reader(self) -> Reader:
        """A read-only connection straight through the driver, for plain commands.

        Once the engine is made (a server, a process that has written) the reader
        borrows one of its pooled connections: opening a fresh one costs a PostgreSQL
        login (about 6 ms) on every request. A plain command never makes the engine,
        so it still starts without importing SQLAlchemy."""
        from lendflow.store.reads import Reader

        self.cipher  # noqa: B018 - the key must be the one that sealed this database
        url = self.settings.resolved_database_url
        if "engine" in self.__dict__:
            return Reader(url, self.engine.raw_connection())
        return Reader(url)

    @cached_property
    def decider(self) -> CreditDecider:
        """The credit decider bootstrap chose; assign `ws.decider` to plug in another."""
        return self.make_decider(self)

    @cached_property
    def gateway(self) -> PaymentGateway:
        """The sandbox gateway unless another was plugged in (assign `ws.gateway`)."""
        return SandboxGateway(self.settings.home / SANDBOX_FILE_NAME)

    @cached_property
    def policy(self) -> Policy:
        from lendflow.config.policy import load_policy  # pydantic models: only when needed

        return load_policy(self.policy_path)

    @cached_property
    def calendar(self) -> BusinessCalendar:
        """Working days: China's public holidays (the `chinese_calendar` package) with the
        lender's `calendar.yaml` in the home folder over them, read once per workspace."""
        from lendflow.config.business_calendar import load_calendar

        return load_calendar(self.settings.home)

    def purpose_key(self, purpose: bytes) -> bytes:
        """A 32-byte key for one purpose (the console's CSRF signing), derived from the
        workspace secret, so every worker process of a server derives the same."""
        from lendflow.store.personal_data import derive_key

        self.cipher  # noqa: B018 - the key must be the one that sealed this database
        return derive_key(workspace_secret(self.settings), purpose)

    @cached_property
    def cipher(self) -> PersonalDataCipher:
        """The cipher under the workspace key, once that key is shown to be the one
        the database records: a replaced key would seal new data under a key nobody
        else has and make every look-up hash miss (duplicates, blocklist)."""
        require_workspace(self.settings)
        secret = workspace_secret(self.settings)
        verify_key(self.settings, key_fingerprint(secret))
        return PersonalDataCipher.from_secret(secret)

    @cached_property
    def directory(self) -> Directory:
        """The users.yaml of the workspace; never the packaged ones (see `load_directory`).

        Only the seed of the `users` table (`lendflow init`), and the directory of a
        workspace whose database has no users yet: `actor` reads the table first."""
        return load_directory(self.settings.home / USERS_FILE_NAME)

    def actor(self, name: str | None = None) -> Actor:
        """The acting user: `name`, else LENDFLOW_USER, as the `users` table has them.

        Read on every call, never cached: a user disabled meanwhile is refused at once,
        even in a long-running process. The read goes through the driver (`Reader`), so
        a plain command pays no SQLAlchemy import for it. A database with no users yet
        falls back to users.yaml, whose absence is refused (fail-closed)."""
        who = require_name(name or self.settings.user)
        seeded, row = self._user_row(who)
        if not seeded:
            return resolve_actor(self.directory, who)
        return actor_of_row(who, row)

    def has_user(self, name: str) -> bool:
        """Whether `name` is in the workspace's directory, disabled or not."""
        seeded, row = self._user_row(name)
        return row is not None if seeded else name in self.directory.users

    def _user_row(self, name: str) -> tuple[bool, tuple[str, bool] | None]:
        """Whether the database keeps the directory yet, and the user's row in it."""
        require_workspace(self.settings)
        from lendflow.store.reads import Reader

        reader = Reader(self.settings.resolved_database_url)
        try:
            row = reader.user(name)
            return row is not None or reader.has_users(), row
        finally:
            reader.close()

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def workspace_secret(settings: Settings) -> bytes:
    """The workspace key, refused if group or others may read its file."""
    if not settings.key_file.exists():
        raise BadInput(
            f"{settings.key_file} is missing: restore it from backup, or `lendflow restore DIR`"
        )
    require_private(settings.key_file)
    return read_secret(settings.key_file)


def verify_key(settings: Settings, fingerprint: str) -> None:
    """Refuse a key file whose fingerprint is not the one the database records.

    One query, paid once per workspace (`Workspace.cipher` is made once), not per use
    case. Not cached per process: another process may rotate the key meanwhile, and a
    fresh workspace must see that. A long-running process (a web server, a worker)
    keeps the key it opened with: restart it after a rotation.
    """
    recorded = recorded_fingerprint(settings)
    if recorded is None:
        raise BadInput("the database records no key fingerprint: run `lendflow init` first")
    if recorded != fingerprint:
        raise BadInput(_wrong_key(settings, recorded))


def recorded_fingerprint(settings: Settings) -> str | None:
    """The fingerprint the database records, read without proving the key file."""
    require_workspace(settings)
    from lendflow.store.reads import Reader

    reader = Reader(settings.resolved_database_url)
    try:
        return reader.key_fingerprint()
    finally:
        reader.close()


def _wrong_key(settings: Settings, recorded: str) -> str:
    pending = settings.key_file.with_name(settings.key_file.name + NEW_KEY_SUFFIX)
    if pending.exists():
        try:
            if key_fingerprint(read_secret(pending)) == recorded:
                return "a key rotation was interrupted: run `lendflow key rotate` to finish it"
        except BadInput:
            pass
    return (
        f"{settings.key_file} is not the key this database was sealed with (fingerprint"
        f" {recorded[:16]}): restore secret.key from backup, or `lendflow restore DIR`"
    )
