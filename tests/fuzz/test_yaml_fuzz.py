"""Random mutations of the shipped product specs and scorecards: each is either a valid
model or a clean `file: ...: message` error, never a traceback."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from lendflow.config.credit_models import load_file, packaged_folder
from lendflow.config.product_spec import example_product_paths
from lendflow.domain.errors import BadInput
from lendflow.products.catalogue import check_product_file
from tests.fuzz.fuzzing import fuzz_settings

PRODUCT_SPECS = [p.read_text("utf-8") for p in example_product_paths()]
SCORECARDS = [p.read_text("utf-8") for p in sorted(packaged_folder().glob("*.yaml"))]

TRICKY = st.sampled_from(
    [
        "2026-02-30",
        "9999-12-31",
        "0001-01-01",
        "-1",
        "0",
        '"0"',
        "99999999999999999999999",
        '"99999999999999999999.99"',
        "1e309",
        ".nan",
        "-.inf",
        "1.5",
        '"1.005"',
        "~",
        "",
        "[]",
        "{}",
        "[1, 2",
        "{a: 1}",
        "&anchor x",
        "*anchor",
        "!!python/object:os.system",
        "yes",
        "'",
        "\t",
        "\x00",
        "a" * 300,
        "[3, 6, 1200]",
        '"-5"',
    ]
)


@st.composite
def mutated(draw: st.DrawFn, texts: list[str]) -> str:
    """One shipped file with a few random edits: values replaced, lines dropped, duplicated
    or cut, random characters put in."""
    lines = draw(st.sampled_from(texts)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["value", "drop", "repeat", "cut", "insert", "indent"]))
        line = lines[at]
        if edit == "value" and ":" in line:
            key = line.split(":", 1)[0]
            value = draw(st.one_of(TRICKY, st.text(max_size=12)))
            lines[at] = f"{key}: {value}"
        elif edit == "drop":
            del lines[at]
        elif edit == "repeat":
            lines.insert(at, line)
        elif edit == "cut":
            lines[at] = line[: draw(st.integers(0, len(line)))]
        elif edit == "insert":
            where = draw(st.integers(0, len(line)))
            lines[at] = line[:where] + draw(st.text(min_size=1, max_size=3)) + line[where:]
        else:
            lines[at] = " " * draw(st.integers(1, 3)) + line
    return "\n".join(lines) + "\n"


def _write(folder: Path, text: str) -> Path:
    path = folder / "fuzzed.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


@fuzz_settings(few=40)
@given(text=mutated(PRODUCT_SPECS))
def test_a_mutated_product_spec_is_checked_or_refused_in_lines_naming_the_file(
    tmp_path: Path, text: str
) -> None:
    path = _write(tmp_path, text)
    try:
        check = check_product_file(path)
    except BadInput as exc:  # raised only for what cannot be collected (e.g. the policy)
        problems = [exc.message]
    else:
        problems = check.problems
        assert check.ok == (not problems)
    for problem in problems:
        assert problem.startswith(f"{path}:"), problem
        assert "\n" not in problem, problem


@fuzz_settings(few=40)
@given(text=mutated(SCORECARDS))
def test_a_mutated_scorecard_compiles_or_is_refused_in_one_line_naming_the_file(
    tmp_path: Path, text: str
) -> None:
    path = _write(tmp_path, text)
    try:
        loaded = load_file(path)
    except BadInput as exc:
        assert exc.message.startswith(f"{path}:"), exc.message
        assert "\n" not in exc.message, exc.message
    else:
        assert loaded.source == str(path)
