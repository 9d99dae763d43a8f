"""The lender's own chart of accounts: each lendflow account's general-ledger code and name
(gl_accounts.yaml), for the trial balance's names and the journal export's codes.

A lender keeps its own `gl_accounts.yaml` in the workspace home, or names one with
`lendflow ledger export --mapping`; otherwise the packaged one (a microlender's chart under
China's 企业会计准则, 金融企业会计科目) stands. Every lendflow account must be mapped, and
no other: a journal line exported without a code would be a line the general ledger loses.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lendflow.config.loading import load_model
from lendflow.domain.ledger import Account

GL_ACCOUNTS_FILE_NAME = "gl_accounts.yaml"


class GlAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
    name: str = Field(min_length=1, max_length=64)


class GlMapping(BaseModel):
    """lendflow account code -> the lender's general-ledger account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accounts: dict[str, GlAccount]

    @model_validator(mode="after")
    def _every_account_once(self) -> GlMapping:
        known = {account.value for account in Account}
        unknown = sorted(set(self.accounts) - known)
        if unknown:
            raise ValueError(f"accounts: not lendflow accounts: {', '.join(unknown)}")
        missing = [account.value for account in Account if account.value not in self.accounts]
        if missing:
            raise ValueError(f"accounts: no general-ledger account for {', '.join(missing)}")
        return self

    def of(self, account: str) -> GlAccount:
        found = self.accounts.get(account)
        if found is None:  # a line of an account the chart no longer has
            return GlAccount(code="UNMAPPED", name=account)
        return found


def default_gl_accounts_path() -> Path:
    return Path(str(resources.files("lendflow.config").joinpath(GL_ACCOUNTS_FILE_NAME)))


def load_gl_mapping(path: Path | None = None, home: Path | None = None) -> GlMapping:
    """The mapping in `path`; else the workspace's own (`home/gl_accounts.yaml`) if it keeps
    one; else the packaged default."""
    if path is None and home is not None and (home / GL_ACCOUNTS_FILE_NAME).is_file():
        path = home / GL_ACCOUNTS_FILE_NAME
    return load_model(GlMapping, path or default_gl_accounts_path())
