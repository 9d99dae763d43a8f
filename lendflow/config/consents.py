"""The consent texts (consents.yaml): each consent's version and its words per language."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from lendflow.config.loading import load_model
from lendflow.domain.consents import CONSENTS
from lendflow.domain.errors import BadInput


class ConsentText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    text: dict[str, str]


class ConsentTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    credit_check: ConsentText
    personal_information: ConsentText
    sensitive_personal_information: ConsentText
    credit_reporting: ConsentText

    def shown(self, name: str, locale: str) -> tuple[int, str, str]:
        """The version, the exact words and their SHA-256 for consent `name` in `locale`."""
        if name not in CONSENTS:
            raise BadInput(f"unknown consent {name!r}")
        consent: ConsentText = getattr(self, name)
        words = consent.text.get(locale)
        if words is None:
            raise BadInput(
                f"consent {name} has no text in {locale}: one of {', '.join(consent.text)}"
            )
        return consent.version, words, hashlib.sha256(words.encode("utf-8")).hexdigest()


@cache
def load_consent_texts(path: Path | None = None) -> ConsentTexts:
    source = path or Path(str(resources.files("lendflow.config").joinpath("consents.yaml")))
    return load_model(ConsentTexts, source)
