"""Interval arithmetic behind coverage and gaps."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from belimo_cloud.store.intervals import holes, intersects, merge, subtract


def t(hour: int) -> datetime:
    return datetime(2024, 1, 1, tzinfo=UTC).replace(hour=hour)


def test_merge_joins_overlapping_and_touching() -> None:
    assert merge([(t(5), t(6)), (t(1), t(3)), (t(3), t(4)), (t(2), t(3))]) == [
        (t(1), t(4)),
        (t(5), t(6)),
    ]


def test_merge_drops_empty() -> None:
    assert merge([(t(2), t(2)), (t(3), t(1))]) == []


def test_subtract_cuts_holes() -> None:
    assert subtract([(t(0), t(10))], [(t(2), t(3)), (t(5), t(7)), (t(9), t(12))]) == [
        (t(0), t(2)),
        (t(3), t(5)),
        (t(7), t(9)),
    ]


def test_subtract_nothing_left() -> None:
    assert subtract([(t(1), t(2))], [(t(0), t(3))]) == []


def test_holes_between_ranges() -> None:
    assert holes([(t(0), t(1)), (t(3), t(4)), (t(4), t(6)), (t(8), t(9))]) == [
        (t(1), t(3)),
        (t(6), t(8)),
    ]


def test_intersects_is_half_open() -> None:
    assert not intersects((t(0), t(1)), (t(1), t(2)))
    assert intersects((t(0), t(2)), (t(1), t(3)))


pairs = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=8)


def _set(intervals: list[tuple[int, int]]) -> set[int]:
    return {m for a, b in intervals for m in range(a, b)}


@given(pairs, pairs)
def test_subtract_matches_set_difference(
    base: list[tuple[int, int]], cut: list[tuple[int, int]]
) -> None:
    # The interval functions only compare and sort their ends, so integers stand in for times.
    result: list[tuple[int, int]] = subtract(base, cut)  # type: ignore[arg-type,assignment]
    assert _set(result) == _set(base) - _set(cut)
    assert result == merge(result)  # type: ignore[arg-type]
