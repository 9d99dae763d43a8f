"""The one YAML loader every configuration file goes through: what it refuses, and how."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from lendflow.config.loading import (
    MAX_YAML_BYTES,
    parse_model,
    parse_stored_yaml,
    parse_yaml,
    read_yaml,
)
from lendflow.config.users import load_directory
from lendflow.domain.errors import BadInput, Problems


def test_a_key_given_twice_names_its_line_and_the_first(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    path.write_text("users:\n  ops: {roles: [operator]}\n  ops: {roles: [admin]}\n", "utf-8")
    with pytest.raises(BadInput) as refused:
        load_directory(path)
    assert refused.value.message == f"{path}: line 3: duplicate key 'ops' (first given on line 2)"


def test_anchors_and_aliases_are_refused() -> None:
    with pytest.raises(yaml.YAMLError, match="anchors and aliases are not allowed"):
        parse_yaml("a: &x [1, 2]\nb: *x\n")


def test_text_over_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    with pytest.raises(yaml.YAMLError, match="over the 1 MB limit"):
        parse_yaml("#" * (MAX_YAML_BYTES + 1))
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_YAML_BYTES + 1))
    with pytest.raises(BadInput, match="the file is 1,000,001 bytes, over the 1 MB limit"):
        read_yaml(path)


class Window(BaseModel):
    opens: date
    closes: list[date]


def test_a_date_not_on_the_calendar_is_named_by_its_field_path() -> None:
    data = parse_yaml("opens: 2026-02-28\ncloses: [2026-03-01, 2026-04-31]\n")
    with pytest.raises(Problems) as refused:
        parse_model(Window, data, "window.yaml")
    assert refused.value.problems == [
        "window.yaml: closes[1]: 2026-04-31 is not a date (day is out of range for month)"
    ]
    good = parse_model(Window, parse_yaml("opens: 2026-02-28\ncloses: [2028-02-29]\n"), "w")
    assert good.closes == [date(2028, 2, 29)]


def test_a_spec_stored_before_the_strict_loader_reads_back_as_it_was_accepted() -> None:
    stored = "code: cash-easy\nkind: consumer\nkind: sme\n"
    with pytest.raises(yaml.YAMLError, match="duplicate key 'kind'"):
        parse_yaml(stored)
    assert parse_stored_yaml(stored) == {"code": "cash-easy", "kind": "sme"}
