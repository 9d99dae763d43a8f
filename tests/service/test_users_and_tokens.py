"""Users and API tokens in the database (issue 15, item 2), on SQLite and PostgreSQL:
init seeds the directory once, admins manage it, and a token stands for its user only
while it is unexpired, unrevoked and the user enabled."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from lendflow.access.permissions import Actor
from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.settings import Settings
from lendflow.domain.errors import BadInput, NotFound, Refused, Unauthenticated
from lendflow.identity import tokens, users
from lendflow.workspace.context import Workspace

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def ws(settings: Settings) -> Iterator[Workspace]:
    init_workspace(settings)
    workspace = open_workspace(settings)
    yield workspace
    workspace.close()


@pytest.fixture
def admin(ws: Workspace) -> Actor:
    return ws.actor("admin")


def _scalar(ws: Workspace, sql: str, **params: object) -> object:
    with ws.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def _user_count(ws: Workspace) -> int:
    return int(_scalar(ws, "SELECT count(*) FROM users"))  # type: ignore[arg-type]


def test_init_seeds_the_users_of_users_yaml_once_and_then_the_database_is_the_directory(
    settings: Settings, ws: Workspace
) -> None:
    assert _user_count(ws) == 9
    assert ws.actor("head").roles == {"product_manager", "product_committee"}
    (settings.home / "users.yaml").write_text("users:\n  zoe: {roles: [admin]}\n", "utf-8")
    again = init_workspace(settings)
    assert again.users_seeded == 0
    assert _user_count(ws) == 9
    with pytest.raises(BadInput, match="unknown user 'zoe'"):
        ws.actor("zoe")


def test_an_admin_adds_a_user_with_known_roles_who_can_then_act(
    ws: Workspace, admin: Actor
) -> None:
    added = users.add_user(ws, admin, "alice", ["operator", "auditor"], NOW, full_name="Alice")
    assert added.roles == ["auditor", "operator"] and not added.disabled
    assert ws.actor("alice").roles == {"operator", "auditor"}
    assert [u.name for u in users.list_users(ws, admin)][:2] == ["admin", "alice"]


@pytest.mark.parametrize(
    ("who", "name", "roles", "error", "message"),
    [
        ("admin", "bob", ["banker"], BadInput, "unknown role 'banker'"),
        ("admin", "bob", [], BadInput, "give the user at least one --role"),
        ("admin", "Bob Smith", ["operator"], BadInput, "user name must be lower-case"),
        ("admin", "ops", ["operator"], Refused, "user ops exists already"),
        ("ops", "bob", ["operator"], Refused, r"user ops \(operator\) may not manage users"),
    ],
)
def test_adding_a_user_is_refused_with_one_line_and_changes_nothing(
    ws: Workspace, who: str, name: str, roles: list[str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        users.add_user(ws, ws.actor(who), name, roles, NOW)
    assert _user_count(ws) == 9


def test_a_disabled_user_may_no_longer_act_and_an_admin_may_not_disable_themself(
    ws: Workspace, admin: Actor
) -> None:
    users.disable_user(ws, admin, "ops")
    with pytest.raises(Refused, match=r"^user ops is disabled$"):
        ws.actor("ops")
    with pytest.raises(Refused, match="user ops is disabled already"):
        users.disable_user(ws, admin, "ops")
    with pytest.raises(Refused, match="user admin may not disable themself"):
        users.disable_user(ws, admin, "admin")
    with pytest.raises(NotFound, match="user nobody does not exist"):
        users.disable_user(ws, admin, "nobody")
    assert ws.actor("admin").name == "admin"


def test_a_token_is_given_once_and_only_its_hash_is_stored(ws: Workspace, admin: Actor) -> None:
    issued = tokens.create_token(ws, admin, "ops", NOW, label="channel", expires_days=30)
    assert issued.token.startswith("lf_") and len(issued.token) > 40
    assert issued.expires_at == NOW + timedelta(days=30)
    stored = _scalar(ws, "SELECT token_hash FROM api_tokens WHERE id = :id", id=issued.id)
    assert stored == hashlib.sha256(issued.token.encode()).hexdigest()
    with ws.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_tokens")).all()
    assert issued.token not in repr(rows)
    listed = tokens.list_tokens(ws, admin)
    assert [(t.id, t.user, t.label) for t in listed] == [(issued.id, "ops", "channel")]
    assert issued.token not in repr([t.model_dump() for t in listed])
    actor = tokens.authenticate_token(ws, issued.token, NOW)
    assert (actor.name, actor.roles) == ("ops", frozenset({"operator"}))


def test_an_expired_token_is_refused_from_the_moment_it_expires(
    ws: Workspace, admin: Actor
) -> None:
    issued = tokens.create_token(ws, admin, "ops", NOW, expires_days=1)
    just_before = NOW + timedelta(days=1) - timedelta(seconds=1)
    assert tokens.authenticate_token(ws, issued.token, just_before).name == "ops"
    with pytest.raises(Unauthenticated):
        tokens.authenticate_token(ws, issued.token, NOW + timedelta(days=1))


def test_a_revoked_token_and_a_disabled_users_token_are_refused(
    ws: Workspace, admin: Actor
) -> None:
    revoked = tokens.create_token(ws, admin, "ops", NOW)
    of_risk = tokens.create_token(ws, admin, "risk", NOW)
    assert tokens.authenticate_token(ws, of_risk.token, NOW).name == "risk"
    tokens.revoke_token(ws, admin, revoked.id, NOW)
    with pytest.raises(Unauthenticated):
        tokens.authenticate_token(ws, revoked.token, NOW)
    with pytest.raises(Refused, match=f"token {revoked.id} is revoked already"):
        tokens.revoke_token(ws, admin, revoked.id, NOW)
    users.disable_user(ws, admin, "risk")
    with pytest.raises(Unauthenticated):
        tokens.authenticate_token(ws, of_risk.token, NOW)
    with pytest.raises(Refused, match="user risk is disabled"):
        tokens.create_token(ws, admin, "risk", NOW)


@pytest.mark.parametrize("token", ["", "lf_not-a-token", "x" * 500])
def test_no_token_or_an_unknown_one_is_refused(ws: Workspace, token: str) -> None:
    with pytest.raises(Unauthenticated, match="missing, unknown, expired or revoked token"):
        tokens.authenticate_token(ws, token, NOW)


@pytest.mark.parametrize(
    ("who", "user", "days", "error", "message"),
    [
        ("pm", "ops", None, Refused, r"user pm \(product_manager\) may not manage users"),
        ("admin", "nobody", None, NotFound, "user nobody does not exist"),
        ("admin", "ops", 0, BadInput, "--expires must be from 1 to 3650 days, got 0"),
    ],
)
def test_making_a_token_is_refused_with_one_line_and_stores_none(
    ws: Workspace, who: str, user: str, days: int | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        tokens.create_token(ws, ws.actor(who), user, NOW, expires_days=days)
    assert _scalar(ws, "SELECT count(*) FROM api_tokens") == 0


def test_a_tokens_use_is_recorded_at_most_once_a_minute(ws: Workspace, admin: Actor) -> None:
    issued = tokens.create_token(ws, admin, "ops", NOW)

    def last_used() -> datetime | None:
        (found,) = tokens.list_tokens(ws, admin)
        return found.last_used_at

    assert last_used() is None
    tokens.authenticate_token(ws, issued.token, NOW)
    assert last_used() == NOW
    tokens.authenticate_token(ws, issued.token, NOW + timedelta(seconds=59))
    assert last_used() == NOW
    tokens.authenticate_token(ws, issued.token, NOW + timedelta(seconds=61))
    assert last_used() == NOW + timedelta(seconds=61)


def test_a_password_is_kept_as_an_argon2_hash_and_verified(ws: Workspace, admin: Actor) -> None:
    assert users.set_password(ws, admin, "risk", PASSWORD).has_password
    stored = str(_scalar(ws, "SELECT password_hash FROM users WHERE name = 'risk'"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert users.verify_password(ws, "risk", PASSWORD).roles == {"risk_officer"}
    for name, password in (("risk", PASSWORD + "!"), ("nobody", PASSWORD), ("ops", PASSWORD)):
        with pytest.raises(Unauthenticated, match=r"^wrong user name or password$"):
            users.verify_password(ws, name, password)
    users.disable_user(ws, admin, "risk")
    with pytest.raises(Unauthenticated, match=r"^wrong user name or password$"):
        users.verify_password(ws, "risk", PASSWORD)


def test_a_short_password_is_refused_and_none_is_stored(ws: Workspace, admin: Actor) -> None:
    with pytest.raises(BadInput, match="password is too short: at least 12 characters"):
        users.set_password(ws, admin, "risk", "short")
    with pytest.raises(Refused, match=r"user ops \(operator\) may not manage users"):
        users.set_password(ws, ws.actor("ops"), "risk", PASSWORD)
    assert _scalar(ws, "SELECT count(*) FROM users WHERE password_hash IS NOT NULL") == 0
