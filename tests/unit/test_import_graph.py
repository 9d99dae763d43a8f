"""The package has no import circles, not even ones hidden inside functions."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from import_cycles import import_cycles


def test_lendflow_has_no_import_circle() -> None:
    assert import_cycles("lendflow") == []


def _package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == "tiny" or m.startswith("tiny.")]:
        del sys.modules[name]


def test_a_circle_hidden_in_a_function_is_found(tiny: Path) -> None:
    _package(
        tiny,
        {
            "tiny/__init__.py": "",
            "tiny/ledger.py": "from tiny import rules\n\nLIMIT = rules.CAP\n",
            "tiny/rules.py": (
                "CAP = 3\n\ndef check():\n    from tiny.ledger import LIMIT\n    return LIMIT\n"
            ),
            "tiny/report.py": "from tiny.ledger import LIMIT\n",
        },
    )
    assert import_cycles("tiny") == [["tiny.ledger", "tiny.rules"]]


def test_a_package_without_circles_passes(tiny: Path) -> None:
    _package(
        tiny,
        {
            "tiny/__init__.py": "",
            "tiny/ledger.py": "from tiny import rules\n",
            "tiny/rules.py": "CAP = 3\n",
        },
    )
    assert import_cycles("tiny") == []


def test_only_the_store_touches_a_database_connection() -> None:
    """Contexts go through repositories: no `uow.connection` (or `.execute`) outside store/.

    The payment gateway's sandbox adapter keeps its own SQLite file, standing in for the
    gateway's books, not lendflow's: it is the one named exception.
    """
    package = Path(__file__).parents[2] / "lendflow"
    exempt = {package / "workspace" / "payments.py"}
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.is_relative_to(package / "store") or path in exempt:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"connection", "execute"}:
                offenders.append(f"{path.relative_to(package)}:{node.lineno} .{node.attr}")
    assert offenders == []
