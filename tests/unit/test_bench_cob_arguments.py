"""The close-of-business benchmark's command line: a bad size is one line and exit 2."""

from __future__ import annotations

import pytest

from benchmarks import bench_cob


@pytest.mark.parametrize("argument", ["--help", "0", "a million", "-5"])
def test_a_size_that_is_no_number_of_loans_is_one_line_and_runs_nothing(
    argument: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[object] = []
    monkeypatch.setattr(bench_cob, "run", lambda *args: ran.append(args))
    assert bench_cob.main([argument]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"not a number of loans: {argument!r}; usage: {bench_cob.USAGE}"]
    assert ran == []


def test_sizes_are_read_with_their_separators(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[tuple[object, ...]] = []
    monkeypatch.setattr(bench_cob, "run", lambda *args: ran.append(args))
    assert bench_cob.main(["1_000", "2,000", "3000"]) == 0
    assert ran == [((1000, 2000, 3000), None)]
