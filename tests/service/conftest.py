"""A ready workspace on each database: both example products live, the sandbox gateway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import count

import pytest

from lendflow.access.permissions import Actor
from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.identity import sample_national_id
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.workspace.context import Workspace
from lendflow.workspace.payments import SandboxGateway

OPENING_DAY = date(2026, 1, 5)
_serials = count(100)


def ready_workspace(settings: Settings) -> Workspace:
    """A new workspace on `settings`, both example products live, the sandbox gateway."""
    init_workspace(settings)
    workspace = open_workspace(
        settings, gateway=SandboxGateway(settings.home / "sandbox_gateway.db")
    )
    admin = workspace.actor("admin")
    for path in example_product_paths():
        products.import_product(workspace, admin, path, activate=True, as_of=OPENING_DAY)
    return workspace


@pytest.fixture
def ws(settings: Settings) -> Iterator[Workspace]:
    workspace = ready_workspace(settings)
    yield workspace
    workspace.close()


@pytest.fixture
def ops(ws: Workspace) -> Actor:
    return ws.actor("ops")


@pytest.fixture
def risk(ws: Workspace) -> Actor:
    return ws.actor("risk")


@pytest.fixture
def auditor(ws: Workspace) -> Actor:
    return ws.actor("auditor")


def _applicant(
    *,
    product: str = "cash-easy",
    amount: str = "10000",
    term: int = 6,
    income: str = "8000",
    born: date = date(1990, 5, 17),
    name: str = "张三",
    phone: str = "13812345678",
    serial: int | None = None,
) -> Application:
    """A valid application; each call is a new person unless `serial` is repeated."""
    return Application.parse(
        product=product,
        name=name,
        national_id=sample_national_id(born, next(_serials) if serial is None else serial),
        phone=phone,
        monthly_income=income,
        amount=amount,
        term=term,
        consents="all",
    )


@pytest.fixture
def applicant():  # type: ignore[no-untyped-def]
    """Factory: applicant(amount="5000", term=3, ...) -> a valid Application."""
    return _applicant
