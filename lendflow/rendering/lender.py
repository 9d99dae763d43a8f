"""The lender's own particulars, read from `<locale>/lender.yaml` beside the templates.

They are document data, not product terms: a lender puts its own copy in the
LENDFLOW_TEMPLATES folder, and every brochure, contract and notice names it.
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from pathlib import Path

import yaml

from lendflow.config.loading import parse_yaml, yaml_problem
from lendflow.domain.errors import BadInput
from lendflow.rendering.environment import load_text
from lendflow.rendering.filters import check_locale
from lendflow.rendering.views import LenderView


def lender_view(locale: str, user_folder: Path | None = None) -> LenderView:
    check_locale(locale)
    source, where = load_text(f"{locale}/lender.yaml", user_folder)
    return _parse(source, where)


@lru_cache(maxsize=16)
def _parse(source: str, where: str) -> LenderView:
    try:
        data = parse_yaml(source)
    except yaml.YAMLError as exc:
        raise BadInput(f"{where}:{yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{where}: must be a mapping of the lender's particulars")
    names = [f.name for f in fields(LenderView)]
    missing = [n for n in names if not data.get(n)]
    if missing:
        raise BadInput(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise BadInput(f"{where}: unknown field {unknown[0]}")
    channels = data["apply_channels"]
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise BadInput(f"{where}: apply_channels must be a list of texts")
    for name in names:
        if name != "apply_channels" and not isinstance(data[name], str):
            raise BadInput(f"{where}: {name} must be text")
    return LenderView(**{**data, "apply_channels": tuple(channels)})
