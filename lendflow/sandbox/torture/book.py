"""The torture book: a fresh workspace per seed, on SQLite or in a PostgreSQL schema of its own.

Each seed gets its own home (key, staff, the sandbox gateway's file) in a temporary
folder and its own database, so seeds run side by side and a failing one can be
replayed alone. The book lends the two example products and a weekly product made
from the consumer one, so that instalments fall due, loans go overdue and are
written off within a few simulated weeks rather than a year.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.loading import read_yaml
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import DATABASE_FILE_NAME, Settings
from lendflow.domain.errors import BadInput
from lendflow.products import catalogue as products
from lendflow.store import torture as torture_store
from lendflow.workspace.context import SANDBOX_FILE_NAME, Workspace
from lendflow.workspace.payments import SandboxGateway

OPENING = date(2026, 1, 5)
"""The first business date of every seed's book: a Monday, fixed, never today."""
POSTGRES_URL_ENV = "LENDFLOW_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
WEEKLY_CODE = "torture-weekly"
DATABASES = ("sqlite", "postgres")


def weekly_spec_yaml() -> str:
    """The consumer example product repaid weekly over 4 to 8 weeks, quick to go overdue
    (1 day of grace), written off at 14 days past due, approvals valid 5 days."""
    consumer = next(p for p in example_product_paths() if p.stem == "cash-easy")
    spec = read_yaml(consumer)
    spec["code"] = WEEKLY_CODE
    spec["name"] = {"zh-CN": "周周借(压力测试)", "en": "Weekly (torture test)"}
    spec["terms"] = [4, 6, 8]
    spec["repayment"] = {"every": 1, "frequency": "weeks", "method": "annuity"}
    spec["amount"] = {"min": "500.00", "max": "8000.00", "step": "100.00"}
    spec["delinquency"] = {
        "grace_days": 1,
        "arrears_tolerance": "1.00",
        "write_off_dpd": 14,
    }
    spec["approval_validity_days"] = 5
    spec["fees"] = []  # a per-instalment fee every week would break the policy's APR cap
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)


@dataclass(frozen=True)
class BookPlace:
    """Where one seed's book lives: its home folder and database URL (plain values, so a
    subprocess opens the same book)."""

    home: Path
    database_url: str

    def settings(self) -> Settings:
        """Every setting given, automated review on: nothing comes from the environment."""
        return Settings(
            home=self.home,
            database_url=self.database_url,
            user=None,
            locale="zh-CN",
            templates=None,
            decisioning="automated",
        )

    def open(self) -> Workspace:
        """The book's workspace, paying out through its sandbox gateway's own file."""
        gateway = SandboxGateway(self.home / SANDBOX_FILE_NAME)
        return open_workspace(self.settings(), gateway=gateway)


def postgres_base_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


@contextmanager
def fresh_book(seed: int, database: str, keep: Path | None = None) -> Iterator[BookPlace]:
    """A new, initialised book for `seed` with the products live; removed afterwards
    unless `keep` names a folder to leave it in."""
    if database not in DATABASES:
        raise BadInput(f"database must be one of {', '.join(DATABASES)}, got {database!r}")
    folder = Path(tempfile.mkdtemp(prefix=f"lendflow-torture-{seed}-", dir=keep))
    home = folder / "home"
    schema = f"lf_torture_{seed}_{os.getpid()}_{folder.name[-8:].lower()}"
    schema = "".join(c if c.isalnum() or c == "_" else "_" for c in schema)
    if database == "sqlite":
        url = f"sqlite:///{(home / DATABASE_FILE_NAME).resolve()}"
    else:
        url = torture_store.create_schema(postgres_base_url(), schema)
    try:
        place = BookPlace(home=home, database_url=url)
        init_workspace(place.settings())
        _make_products_live(place, folder)
        yield place
    finally:
        if database == "postgres":
            torture_store.drop_schema(postgres_base_url(), schema)
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _make_products_live(place: BookPlace, folder: Path) -> None:
    weekly = folder / f"{WEEKLY_CODE}.yaml"
    weekly.write_text(weekly_spec_yaml(), encoding="utf-8")
    ws = place.open()
    try:
        admin = ws.actor("admin")
        for path in [*example_product_paths(), weekly]:
            products.import_product(ws, admin, path, activate=True, as_of=OPENING)
    finally:
        ws.close()
