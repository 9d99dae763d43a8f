"""A sandbox workspace: a fresh SQLite book in a folder of its own, with its own key.

The build and test stage makes a product version live there and drives
synthetic applicants through the real engine. Nothing in it belongs to the
real book: another database file, another secret key, the default staff, and a
payment gateway that pays in memory. The real workspace lends only its
locale, its document templates and its own credit models (copied in), so the
sandbox tests the product as the real workspace would run it.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendflow.bootstrap import init_workspace
from lendflow.config.credit_models import FOLDER_NAME as MODELS_FOLDER
from lendflow.config.loading import parse_yaml
from lendflow.config.product_spec import ProductSpec, parse_product
from lendflow.config.settings import DATABASE_FILE_NAME, Settings
from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import LendflowError
from lendflow.products import catalogue as products
from lendflow.workspace.payments import PayoutReceipt

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

SPEC_FOLDER = "spec"


@dataclass(frozen=True)
class SandboxSetup:
    """Where a sandbox lives and what it takes over from the real workspace.

    Plain values only: the flow's tasks reopen the sandbox from this, as they
    reopen the real workspace from the environment.
    """

    folder: str
    locale: str = "zh-CN"
    templates: str | None = None
    models_folder: str | None = None

    @property
    def home(self) -> Path:
        return Path(self.folder) / "home"

    @property
    def database(self) -> Path:
        return self.home / DATABASE_FILE_NAME

    def spec_file(self, code: str) -> Path:
        """Where the spec is written to be imported, as any product file is."""
        return Path(self.folder) / SPEC_FOLDER / f"{code}.yaml"

    def settings(self) -> Settings:
        """The sandbox's settings, every one given: nothing comes from the environment."""
        return Settings(
            home=self.home,
            database_url=f"sqlite:///{self.database.resolve()}",
            user=None,
            locale=self.locale,  # type: ignore[arg-type]
            templates=Path(self.templates) if self.templates else None,
            decisioning="automated",
        )


def setup_for(ws: Workspace, folder: str) -> SandboxSetup:
    """A sandbox in `folder` that renders and decides as `ws` does."""
    models = ws.settings.home / MODELS_FOLDER
    return SandboxSetup(
        folder=folder,
        locale=ws.settings.locale,
        templates=str(ws.settings.templates) if ws.settings.templates else None,
        models_folder=str(models) if models.is_dir() else None,
    )


class InstantGateway:
    """Pays every payout at once, in memory, at most once per reference.

    The sandbox tests the product on the engine, not a payment rail; the
    reference rule is kept so a retried payout still cannot pay twice.
    """

    def __init__(self) -> None:
        self._paid: dict[str, int] = {}
        self._lock = threading.Lock()

    def pay_out(self, reference: str, amount: int, customer_id: int) -> PayoutReceipt:
        with self._lock:
            paid = self._paid.setdefault(reference, amount)
        return PayoutReceipt(reference, f"SBX-{reference}", paid)

    def payouts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._paid)


@contextmanager
def open_sandbox(setup: SandboxSetup) -> Iterator[Workspace]:
    """The sandbox workspace, closed when done."""
    from lendflow.bootstrap import open_workspace

    ws = open_workspace(setup.settings(), gateway=InstantGateway())
    try:
        yield ws
    finally:
        ws.close()


@dataclass(frozen=True)
class BuiltSandbox:
    """The product live in the sandbox: which version, from which spec, where."""

    code: str
    version: int
    sha256: str
    database: str
    revision: str
    models: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "sha256": self.sha256,
            "database": self.database,
            "revision": self.revision,
            "models": self.models,
        }


def build_sandbox(setup: SandboxSetup, spec_yaml: str, as_of: date) -> BuiltSandbox:
    """Create the sandbox (schema, key, staff), then import and activate the spec there.

    The spec is checked on import as any product is (policy, credit models);
    a spec that fails is refused with every problem named.
    """
    spec = spec_of(spec_yaml)
    report = init_workspace(setup.settings())
    models = "packaged"
    if setup.models_folder:
        shutil.copytree(setup.models_folder, setup.home / MODELS_FOLDER, dirs_exist_ok=True)
        models = "the workspace's own, then the packaged"
    path = setup.spec_file(spec.code)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec_yaml, encoding="utf-8")
    with open_sandbox(setup) as ws:
        imported = products.import_product(ws, ws.actor("admin"), path, activate=True, as_of=as_of)
    return BuiltSandbox(
        code=spec.code,
        version=imported.version,
        sha256=str(imported.sha256),
        database=str(setup.database),
        revision=report.revision,
        models=models,
    )


def spec_of(spec_yaml: str) -> ProductSpec:
    return parse_product(parse_yaml(spec_yaml), "the version's spec")


def guarded(name: str, evaluate: Callable[[], Criterion]) -> Criterion:
    """Run one check: one that breaks fails with its error as the figure, and the rest
    still run, so a report always names every check."""
    try:
        result = evaluate()
    except LendflowError as exc:
        return Criterion(name, False, f"refused: {exc.message}")
    except Exception as exc:
        return Criterion(name, False, f"the check broke: {type(exc).__name__}: {exc}")
    if result.name != name:
        return Criterion(name, False, f"the check answered as {result.name}")
    return result
