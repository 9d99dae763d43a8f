"""The test folders are not packages, so pytest imports each test module by its file
name: two with the same name stop the whole run at collection."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_modules_share_a_file_name() -> None:
    found: dict[str, list[str]] = defaultdict(list)
    for module in TESTS.rglob("test_*.py"):
        if "__init__.py" not in {p.name for p in module.parent.iterdir()}:
            found[module.name].append(str(module.relative_to(TESTS)))
    assert {name: paths for name, paths in found.items() if len(paths) > 1} == {}
