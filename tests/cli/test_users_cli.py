"""`lendflow user …` and `lendflow token …` (issue 15, item 2): admin-only, every refusal
one line that changes nothing, a token printed once and never listed."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from lendflow.bootstrap import open_workspace
from lendflow.cli import app
from lendflow.identity.tokens import authenticate_token

Run = Callable[[str], object]
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def ready(lendflow: Run) -> Run:
    assert lendflow("init").exit_code == 0  # type: ignore[attr-defined]
    return lendflow


def _with_stdin(command: str, stdin: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, shlex.split(command), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _users(lendflow: Run) -> list[dict[str, object]]:
    listed = lendflow("user list --json --as admin")
    assert listed.exit_code == 0, listed.stderr  # type: ignore[attr-defined]
    return listed.json()  # type: ignore[attr-defined,no-any-return]


def test_an_admin_adds_lists_and_disables_a_user(ready: Run) -> None:
    added = ready("user add alice --role operator --role auditor --full-name Alice --as admin")
    assert added.stdout == "user alice added (auditor, operator)\n"  # type: ignore[attr-defined]
    alice = next(u for u in _users(ready) if u["name"] == "alice")
    assert alice["roles"] == ["auditor", "operator"] and alice["disabled"] is False
    assert ready("loan list --as alice").exit_code == 0  # type: ignore[attr-defined]
    assert ready("user disable alice --as admin").stdout == "user alice disabled\n"  # type: ignore[attr-defined]
    refused = ready("loan list --as alice")
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    assert refused.error() == "error: user alice is disabled"  # type: ignore[attr-defined]
    text = ready("user list --as admin").stdout  # type: ignore[attr-defined]
    assert "alice            auditor, operator  [disabled]" in text


@pytest.mark.parametrize(
    ("command", "code", "message"),
    [
        ("user add bob --role banker --as admin", 2, "error: unknown role 'banker': one of"),
        ("user add ops --role operator --as admin", 1, "error: user ops exists already"),
        ("user add bob --role operator --as ops", 1, "error: user ops (operator) may not manage"),
        ("user add bob --role operator", 2, "error: who is acting? give --as USER"),
        ("user list --as risk", 1, "error: user risk (risk_officer) may not manage users"),
        ("user disable nobody --as admin", 2, "error: user nobody does not exist"),
        ("user disable admin --as admin", 1, "error: user admin may not disable themself"),
        ("user password risk --as admin", 2, "error: give the password on standard input"),
        ("token create --user nobody --as admin", 2, "error: user nobody does not exist"),
        ("token create --user ops --expires 0 --as admin", 2, "error: --expires must be from 1"),
        ("token create --user ops --as auditor", 1, "error: user auditor (auditor) may not"),
        ("token revoke 99 --as admin", 2, "error: token 99 does not exist"),
        ("token revoke x --as admin", 2, "error: ID must be a whole number"),
        ("token list --as ops", 1, "error: user ops (operator) may not manage users"),
    ],
)
def test_each_refusal_is_one_line_and_changes_nothing(
    ready: Run, command: str, code: int, message: str
) -> None:
    before = _users(ready)
    refused = ready(command)
    assert refused.exit_code == code  # type: ignore[attr-defined]
    assert refused.error().startswith(message)  # type: ignore[attr-defined]
    assert refused.stdout == ""  # type: ignore[attr-defined]
    assert _users(ready) == before
    assert ready("token list --json --as admin").json() == []  # type: ignore[attr-defined]


def test_a_token_is_printed_once_works_and_is_never_listed(ready: Run) -> None:
    made = ready("token create --user ops --name channel --expires 30 --as admin")
    assert made.exit_code == 0, made.stderr  # type: ignore[attr-defined]
    token = made.stdout.strip()  # type: ignore[attr-defined]
    assert token.startswith("lf_") and "\n" not in token
    assert "it is not shown again" in made.stderr  # type: ignore[attr-defined]
    ws = open_workspace()
    try:
        assert authenticate_token(ws, token, NOW).name == "ops"
    finally:
        ws.close()
    listed = ready("token list --json --as admin")
    (only,) = listed.json()  # type: ignore[attr-defined]
    assert (only["user"], only["label"]) == ("ops", "channel")
    assert token not in listed.stdout  # type: ignore[attr-defined]
    assert token not in ready("token list --as admin").stdout  # type: ignore[attr-defined]


def test_token_create_json_gives_the_token_its_id_and_expiry_and_revoke_ends_it(
    ready: Run,
) -> None:
    made = ready("token create --user risk --expires 7 --json --as admin").json()  # type: ignore[attr-defined]
    assert set(made) == {"token", "id", "user", "label", "expires_at"}
    assert made["user"] == "risk" and made["expires_at"] is not None
    revoked = ready(f"token revoke {made['id']} --as admin")
    assert revoked.stdout == f"token {made['id']} of user risk revoked\n"  # type: ignore[attr-defined]
    again = ready(f"token revoke {made['id']} --as admin")
    assert again.error() == f"error: token {made['id']} is revoked already"  # type: ignore[attr-defined]


def test_a_password_is_read_from_standard_input_only(ready: Run) -> None:
    code, stdout, stderr = _with_stdin(
        "user password risk --password-stdin --as admin", "correct horse battery staple\n"
    )
    assert (code, stdout) == (0, "password set for user risk\n"), stderr
    risk = next(u for u in _users(ready) if u["name"] == "risk")
    assert risk["has_password"] is True
    code, stdout, stderr = _with_stdin("user password ops --password-stdin --as admin", "short\n")
    assert (code, stdout) == (2, "")
    assert stderr == "error: password is too short: at least 12 characters\n"
    assert next(u for u in _users(ready) if u["name"] == "ops")["has_password"] is False
