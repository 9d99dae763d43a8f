"""Configuration and roles fail closed (issue 14, finding 9): a user without the permission
a batch needs is refused, not "skipped"; a workspace whose database has no users yet and
no users.yaml names nobody."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from lendflow.bootstrap import init_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.errors import Refused
from lendflow.domain.identity import sample_national_id
from lendflow.flows.loans import disburse_approved, review_applications
from lendflow.flows.runtime import workspace
from lendflow.loans import applications
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products


@pytest.fixture
def submitted(isolated_environment: Path) -> int:
    """A workspace with one submitted application for cash-easy; its id."""
    init_workspace(Settings(home=isolated_environment))
    ws = workspace()
    products.import_product(
        ws, ws.actor("admin"), example_product_paths()[0], activate=True, as_of=date(2026, 1, 5)
    )
    application = Application.parse(
        product="cash-easy",
        name="客户",
        national_id=sample_national_id(date(1988, 3, 9), 300),
        phone="13912345600",
        monthly_income="9000",
        amount="6000",
        term=6,
        consents="all",
    )
    return applications.apply(ws, ws.actor("ops"), application, date(2026, 1, 10)).id


def _still_submitted(loan_id: int) -> bool:
    ws = workspace()
    return loan_id in loan_views.ids_in_state(ws, ws.actor("admin"), "submitted")


def test_review_applications_as_a_product_manager_is_an_error_not_a_skip(
    submitted: int, lendflow: Callable[[str], object]
) -> None:
    result = lendflow("run review-applications --as pm --on 2026-01-10")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert result.error() == "error: user pm (product_manager) may not review applications"  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert _still_submitted(submitted)


def test_the_batch_flows_themselves_refuse_a_user_without_the_permission(submitted: int) -> None:
    with pytest.raises(Refused, match="user pm \\(product_manager\\) may not review"):
        review_applications(date(2026, 1, 10), "pm")
    with pytest.raises(Refused, match="user auditor \\(auditor\\) may not pay out loans"):
        disburse_approved(date(2026, 1, 12), "auditor")
    assert _still_submitted(submitted)


def test_once_seeded_the_database_is_the_directory_and_users_yaml_no_longer_counts(
    isolated_environment: Path, lendflow: Callable[[str], object]
) -> None:
    assert lendflow("init").exit_code == 0  # type: ignore[attr-defined]
    users = isolated_environment / "users.yaml"
    users.write_text("users:\n  ops: {roles: [operator]}\n", encoding="utf-8")
    assert lendflow("loan list --as admin").exit_code == 0  # type: ignore[attr-defined]
    users.unlink()
    assert lendflow("loan list --as admin").exit_code == 0  # type: ignore[attr-defined]
    refused = lendflow("loan list --as nobody")
    assert refused.error() == "error: unknown user 'nobody' (see lendflow user list)"  # type: ignore[attr-defined]


def test_a_workspace_whose_database_has_no_users_and_no_users_yaml_refuses_every_user(
    isolated_environment: Path, lendflow: Callable[[str], object]
) -> None:
    assert lendflow("init").exit_code == 0  # type: ignore[attr-defined]
    with sqlite3.connect(isolated_environment / "lendflow.db") as db:
        db.execute("DELETE FROM users")  # as a database migrated to 0015 and not yet seeded
    users = isolated_environment / "users.yaml"
    users.write_text("users:\n  ops: {roles: [operator]}\n", encoding="utf-8")
    assert lendflow("loan list --as ops").exit_code == 0  # type: ignore[attr-defined]
    refused = lendflow("loan list --as admin")  # the staff removed admin
    assert refused.error() == "error: unknown user 'admin' (see users.yaml in the workspace)"  # type: ignore[attr-defined]
    users.unlink()
    for command in ("loan list --as admin", "loan list --as ops", "audit verify --as admin"):
        missing = lendflow(command)
        assert missing.exit_code == 2  # type: ignore[attr-defined]
        assert missing.error() == (  # type: ignore[attr-defined]
            f"error: users file {users} is missing: run lendflow init or restore it"
        )
    assert lendflow("init").exit_code == 0  # type: ignore[attr-defined]
    assert lendflow("loan list --as admin").exit_code == 0  # type: ignore[attr-defined]
