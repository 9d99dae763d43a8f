"""Users and roles (users.yaml), validated."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lendflow.config.loading import load_model
from lendflow.domain.errors import BadInput

Role = Literal[
    "admin", "product_manager", "product_committee", "risk_officer", "operator", "auditor",
    "finance",
]  # fmt: skip
USERS_FILE_NAME = "users.yaml"


class User(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: list[Role] = Field(min_length=1)
    name: str = ""


class Directory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    users: dict[str, User]


def default_users_path() -> Path:
    """The packaged users: only `lendflow init` copies them, into a new workspace."""
    return Path(str(resources.files("lendflow.config").joinpath(USERS_FILE_NAME)))


def load_directory(path: Path) -> Directory:
    """A workspace's users. A missing file is refused, never replaced by the packaged users:
    falling back would bring back their `admin` in a workspace whose staff removed it."""
    if not path.is_file():
        raise BadInput(f"users file {path} is missing: run lendflow init or restore it")
    return load_model(Directory, path)
