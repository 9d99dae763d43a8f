"""How a chunk's range of loan ids is cut for its locks (`store.range_locks`)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from lendflow.store.range_locks import GRANULE, granule, parts, whole_granules

ids = st.integers(min_value=1, max_value=50 * GRANULE)


@given(ids, st.integers(min_value=0, max_value=5 * GRANULE))
def test_the_parts_cover_the_range_once_in_ascending_order(lo: int, width: int) -> None:
    hi = lo + width
    found = parts(lo, hi)
    assert found[0][0] == lo and found[-1][1] == hi
    for (_, end, _), (start, _, _) in pairwise(found):
        assert start == end + 1
    assert [is_whole for _, _, is_whole in found].count(True) <= 1


@given(ids, st.integers(min_value=0, max_value=5 * GRANULE))
def test_a_whole_part_is_whole_granules_and_an_edge_holds_none(lo: int, width: int) -> None:
    hi = lo + width
    for start, end, is_whole in parts(lo, hi):
        if is_whole:
            assert (start - 1) % GRANULE == 0 and end % GRANULE == 0
            assert list(whole_granules(start, end)) == list(range(granule(start), granule(end) + 1))
        else:
            assert not whole_granules(start, end)
            assert end - start + 1 < 2 * GRANULE


def test_a_chunk_of_fifty_thousand_from_the_first_id_is_fifty_whole_granules() -> None:
    assert parts(1, 50_000) == [(1, 50_000, True)]
    assert list(whole_granules(1, 50_000)) == list(range(50))


def test_ranges_off_the_granules_lock_their_edges_by_row() -> None:
    assert parts(1, 500) == [(1, 500, False)]
    assert parts(501, 2_600) == [(501, 1_000, False), (1_001, 2_000, True), (2_001, 2_600, False)]
    assert parts(7, 7) == [(7, 7, False)]
