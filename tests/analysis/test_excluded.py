"""The runs-and-singles set of excluded readings answers like a plain set of indices."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from belimo_cloud.analysis.excluded import Excluded

SIZE = 60


def used_before(model: set[int], i: int, first: int) -> int:
    j = i - 1
    while j >= first and j in model:
        j -= 1
    return j if j >= first else -1


def used_after(model: set[int], i: int, end: int) -> int:
    j = i + 1
    while j < end and j in model:
        j += 1
    return j if j < end else -1


@settings(max_examples=200, deadline=None)
@given(
    bulk=st.lists(st.booleans(), min_size=SIZE, max_size=SIZE),
    singles=st.lists(st.integers(0, SIZE - 1), max_size=20),
    later=st.lists(st.booleans(), min_size=SIZE, max_size=SIZE),
)
def test_excluded_matches_a_plain_set(
    bulk: list[bool], singles: list[int], later: list[bool]
) -> None:
    ex = Excluded()
    model: set[int] = set()
    first = np.flatnonzero(bulk).astype(np.int64)
    ex.add_sorted(first)
    model.update(first.tolist())
    for i in singles:
        ex.add(i)
        model.add(i)
    # A second bulk addition that overlaps the runs so far is taken as singles.
    second = np.flatnonzero(later).astype(np.int64)
    ex.add_sorted(second)
    model.update(second.tolist())
    assert ex.array().tolist() == sorted(model)
    assert len(ex) == len(model)
    assert bool(ex) == bool(model)
    for i in range(-1, SIZE + 1):
        assert (i in ex) == (i in model)
        assert (np.int64(i) in ex) == (i in model)
        for lo, hi in ((0, SIZE), (10, 40)):
            assert ex.used_before(i, lo) == used_before(model, i, lo)
            assert ex.used_after(i, hi) == used_after(model, i, hi)


def test_empty_and_non_integers() -> None:
    ex = Excluded()
    assert not ex
    assert len(ex) == 0
    assert ex.array().tolist() == []
    assert ex.used_before(5, 0) == 4
    assert ex.used_after(5, 10) == 6
    ex.add_sorted(np.array([3, 4, 5], dtype=np.int64))
    assert "4" not in ex
    assert 4.0 not in ex
    assert ex.used_before(6, 0) == 2
    assert ex.used_after(2, 10) == 6
    assert ex.used_before(4, 3) == -1
