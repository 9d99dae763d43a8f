"""Creating and opening a workspace: home folder, secret key, migrated database."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lendflow.config.settings import Settings
from lendflow.config.users import USERS_FILE_NAME, default_users_path
from lendflow.domain.errors import BadInput

if TYPE_CHECKING:
    from sqlalchemy import Engine

KEY_BYTES = 32


@dataclass(frozen=True)
class WorkspaceReport:
    """What `init` found and did, so a second run can say it changed nothing."""

    home: Path
    database_url: str
    revision: str
    key_created: bool
    home_created: bool


def ensure_key_file(path: Path) -> bool:
    """Create the workspace secret (32 random bytes, hex) with mode 0600 if missing.

    The key encrypts personal data and keys its look-up hashes; losing it makes
    stored names and ID numbers unreadable, so an existing key is never replaced.
    """
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise BadInput(
                f"{path}: secret key is readable by others (mode {mode:o}); chmod 600 it"
            )
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    return True


def init_workspace(settings: Settings) -> WorkspaceReport:
    """Create the home, the key and the database schema; safe to run again."""
    home_created = not settings.home.exists()
    settings.home.mkdir(parents=True, exist_ok=True)
    key_created = ensure_key_file(settings.key_file)
    users = settings.home / USERS_FILE_NAME
    if not users.exists():
        shutil.copyfile(default_users_path(), users)
    from lendflow.store.engine import make_engine
    from lendflow.store.migrate import upgrade_to_head  # alembic is slow to import: only here

    engine = make_engine(settings.resolved_database_url)
    try:
        revision = upgrade_to_head(engine)
    finally:
        engine.dispose()
    return WorkspaceReport(
        home=settings.home,
        database_url=redact_url(settings.resolved_database_url),
        revision=revision,
        key_created=key_created,
        home_created=home_created,
    )


def require_workspace(settings: Settings) -> None:
    """Refuse a workspace that was never initialised, with what to do about it."""
    if settings.is_sqlite and not settings.home.exists():
        raise BadInput(f"no workspace at {settings.home}: run `lendflow init` first")


def open_engine(settings: Settings) -> Engine:
    """The workspace's engine, on a database at the schema this code expects."""
    require_workspace(settings)
    from sqlalchemy import text

    from lendflow.store.engine import make_engine
    from lendflow.store.schema_version import HEAD_REVISION

    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as connection:
        try:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            revision = None
    if revision != HEAD_REVISION:
        engine.dispose()
        raise BadInput(
            f"the database is at schema {revision or 'none'}, this lendflow needs"
            f" {HEAD_REVISION}: run `lendflow init` to migrate it"
        )
    return engine


def redact_url(url: str) -> str:
    """A database URL with any password hidden, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
