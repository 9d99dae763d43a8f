"""Workspace settings from LENDFLOW_* environment variables.

One place wires the home folder, the database and the acting user, so tests and
deployments change behaviour by environment, never by editing code.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from lendflow.domain.errors import BadInput

Locale = Literal["zh-CN", "en"]
KEY_FILE_NAME = "secret.key"
DATABASE_FILE_NAME = "lendflow.db"
CALENDAR_FILE_NAME = "calendar.yaml"
"""The lender's own business-day calendar in the home (`config.business_calendar`)."""


class Settings(BaseSettings):
    """Where the workspace lives and who is acting."""

    model_config = SettingsConfigDict(env_prefix="LENDFLOW_", extra="ignore")

    home: Path = Field(default=Path(".lendflow"), description="workspace folder")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite in the home folder when unset"
    )
    user: str | None = Field(default=None, description="acting user when --as is not given")
    locale: Locale = "zh-CN"
    templates: Path | None = Field(default=None, description="folder of template overrides")
    decisioning: Literal["automated", "manual"] = Field(
        default="automated",
        description="automated: scorecard and decision table decide or refer; manual: refer all",
    )

    web_threads: int = Field(
        default=4,
        ge=1,
        le=256,
        description="requests a `lendflow web` worker serves at once (LENDFLOW_WEB_THREADS)",
    )
    today: date | None = Field(
        default=None,
        description="the real date (LENDFLOW_TODAY) instead of the system clock in Asia/Shanghai;"
        " tests and replays fix it",
    )

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / DATABASE_FILE_NAME).resolve()}"

    @property
    def key_file(self) -> Path:
        return self.home / KEY_FILE_NAME

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Read settings from the environment now (not at import), so tests can vary it.

    A value the environment sets wrong is refused in one line naming its variable, as
    every bad input is, instead of pydantic's report."""
    try:
        return Settings()
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = "LENDFLOW_" + "_".join(str(part) for part in problem["loc"]).upper()
        raise BadInput(
            f"{name}={problem.get('input')!r}: {problem['msg'][0].lower()}{problem['msg'][1:]}"
        ) from None
