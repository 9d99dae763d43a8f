"""`lendflow backup` and `lendflow restore`: the database and the key that opens it, kept
together, checked before anything is overwritten and after everything is back.

A database backup without its key is a locked box whose key is lost; a key without the
database it sealed is useless. So a backup folder holds both (and the users file and
the sandbox gateway's book, when present) with a manifest: each file's SHA-256, the
key's fingerprint and the schema revision. The folder holds the key: keep it as safe
as the key itself (it is written with mode 700, the key with 600).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.settings import DATABASE_FILE_NAME, KEY_FILE_NAME, Settings
from lendflow.config.users import USERS_FILE_NAME
from lendflow.domain.errors import BadInput, Refused
from lendflow.store import dumps
from lendflow.store.personal_data import key_fingerprint, read_secret, require_private
from lendflow.store.schema_version import HEAD_REVISION
from lendflow.workspace.context import (
    SANDBOX_FILE_NAME,
    Workspace,
    recorded_fingerprint,
    verify_key,
)
from lendflow.workspace.results import Result

MANIFEST = "manifest.json"
FORMAT = 1
PG_DUMP_NAME = "lendflow.pgdump"


class Backup(Result):
    """What a backup folder holds, as its manifest says."""

    folder: str
    database: str
    schema_revision: str
    key_fingerprint: str
    files: dict[str, str]


def backup(ws: Workspace, actor: Actor, out: Path) -> Backup:
    """Copy the database, the key and the workspace's files into `out` with a manifest."""
    actor.require(Permission.MANAGE_KEYS, "back up the workspace (the backup holds its key)")
    ws.cipher  # noqa: B018 - the key must be private and the one that sealed the database
    settings = ws.settings
    url = settings.resolved_database_url
    database = dumps.kind_of(url)
    _empty_folder(out)
    fingerprint = recorded_fingerprint(settings)
    if database == "sqlite":
        dumps.copy_sqlite(dumps.sqlite_path(url), out / DATABASE_FILE_NAME)
    else:
        dumps.pg_dump(url, out / PG_DUMP_NAME)
    if recorded_fingerprint(settings) != fingerprint:
        raise Refused("the workspace key was rotated during the backup: run the backup again")
    _copy_private(settings.key_file, out / KEY_FILE_NAME)
    users = settings.home / USERS_FILE_NAME
    if users.exists():
        shutil.copyfile(users, out / USERS_FILE_NAME)
    gateway = settings.home / SANDBOX_FILE_NAME
    if gateway.exists():
        dumps.copy_sqlite(gateway, out / SANDBOX_FILE_NAME)
    files = {p.name: _sha256(p) for p in sorted(out.iterdir()) if p.name != MANIFEST}
    manifest = {
        "format": FORMAT,
        "database": database,
        "schema_revision": HEAD_REVISION,
        "key_fingerprint": fingerprint,
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Backup(folder=str(out), **{k: v for k, v in manifest.items() if k != "format"})


def restore(settings: Settings, source: Path, *, force: bool = False) -> Backup:
    """Put a backup back: the manifest is checked before anything is touched, and the
    restored database must name the restored key. The caller runs the audit after."""
    manifest = read_manifest(source)
    url = settings.resolved_database_url
    database = dumps.kind_of(url)
    if manifest["database"] != database:
        raise BadInput(
            f"{source} is a backup of a {manifest['database']} database; this workspace"
            f" uses {database}"
        )
    if not force and _in_use(settings):
        raise BadInput(
            f"{settings.home} already holds a workspace: restore into an empty one, or give"
            " --force to replace it"
        )
    settings.home.mkdir(parents=True, exist_ok=True)
    if database == "sqlite":
        dumps.copy_sqlite(source / DATABASE_FILE_NAME, dumps.sqlite_path(url))
    else:
        dumps.pg_restore(url, source / PG_DUMP_NAME)
    _copy_private(source / KEY_FILE_NAME, settings.key_file, replace=True)
    if (source / USERS_FILE_NAME).exists():
        shutil.copyfile(source / USERS_FILE_NAME, settings.home / USERS_FILE_NAME)
    if (source / SANDBOX_FILE_NAME).exists():
        dumps.copy_sqlite(source / SANDBOX_FILE_NAME, settings.home / SANDBOX_FILE_NAME)
    for stale in settings.home.glob(f"{KEY_FILE_NAME}.new"):
        stale.unlink()  # an interrupted rotation's key belongs to the database replaced
    verify_key(settings, manifest["key_fingerprint"])
    return Backup(folder=str(source), **{k: v for k, v in manifest.items() if k != "format"})


def read_manifest(source: Path) -> dict[str, Any]:
    """The backup's manifest, once every file it lists matches its SHA-256 and the key
    file is the one it names; else one line saying what is wrong."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except OSError as exc:
        raise BadInput(f"{source}: no readable {MANIFEST} ({exc.strerror or exc})") from None
    except ValueError:
        raise BadInput(f"{source / MANIFEST} is not valid JSON") from None
    needed = {"format", "database", "schema_revision", "key_fingerprint", "files"}
    if not isinstance(manifest, dict) or not needed <= manifest.keys():
        raise BadInput(f"{source / MANIFEST} lacks {', '.join(sorted(needed))}")
    if manifest["format"] != FORMAT:
        raise BadInput(f"{source / MANIFEST}: unknown backup format {manifest['format']!r}")
    if manifest["schema_revision"] != HEAD_REVISION:
        raise BadInput(
            f"{source} is at schema {manifest['schema_revision']}, this lendflow needs"
            f" {HEAD_REVISION}: restore it with the lendflow that made it"
        )
    for name, digest in manifest["files"].items():
        path = source / name
        if Path(name).name != name or not path.is_file():
            raise BadInput(f"{source}: {name} listed in the manifest is missing")
        if _sha256(path) != digest:
            raise BadInput(f"{path} does not match its SHA-256 in the manifest: damaged backup")
    if KEY_FILE_NAME not in manifest["files"]:
        raise BadInput(f"{source}: the backup holds no {KEY_FILE_NAME}")
    if key_fingerprint(read_secret(source / KEY_FILE_NAME)) != manifest["key_fingerprint"]:
        raise BadInput(f"{source / KEY_FILE_NAME} is not the key the manifest names")
    return dict(manifest)


def _in_use(settings: Settings) -> bool:
    """A workspace is there: its key, or a database with any table in it."""
    if settings.key_file.exists():
        return True
    from lendflow.store.keys import holds_tables

    return holds_tables(settings.resolved_database_url)


def _empty_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"--out {out} is not an empty folder: back up into a new one")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    out.chmod(0o700)


def _copy_private(source: Path, target: Path, *, replace: bool = False) -> None:
    """Copy a key file with mode 600 from the first byte (never readable by others)."""
    require_private(source)
    temporary = target.with_name(target.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(source.read_bytes())
        handle.flush()
        os.fsync(handle.fileno())
    if not replace and target.exists():
        temporary.unlink()
        raise BadInput(f"{target} exists already")
    os.replace(temporary, target)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
