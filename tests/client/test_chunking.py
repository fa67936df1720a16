"""The fewest grid-aligned windows under the 10,000-bucket cap."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from belimo_cloud.client.chunking import bucket_count, plan_windows
from belimo_cloud.client.constants import MAX_WINDOWS
from belimo_cloud.client.timeutil import floor_to_grid
from belimo_cloud.errors import DataError

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_year_at_15_minutes_takes_four_windows() -> None:
    windows = plan_windows(YEAR_START, YEAR_END, "15m")
    assert len(windows) == 4  # 35,040 buckets
    assert windows[0][0] == YEAR_START
    assert windows[-1][1] == YEAR_END
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert end == start
        assert start == floor_to_grid(start, timedelta(minutes=15))
    assert sum(bucket_count(lo, hi, "15m") for lo, hi in windows) == 35_040
    assert all(bucket_count(lo, hi, "15m") <= 10_000 for lo, hi in windows)


def test_exactly_the_cap_is_one_window() -> None:
    end = YEAR_START + 10_000 * timedelta(minutes=15)
    assert plan_windows(YEAR_START, end, "15m") == [(YEAR_START, end)]
    assert len(plan_windows(YEAR_START, end + timedelta(seconds=1), "15m")) == 2


def test_short_range_is_one_window_and_accepts_strings() -> None:
    windows = plan_windows("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", "1h")
    assert windows == [(YEAR_START, YEAR_START + timedelta(days=1))]


def test_unaligned_start_counts_its_partial_bucket() -> None:
    start = YEAR_START + timedelta(minutes=7)
    end = YEAR_START + 10_000 * timedelta(minutes=15)
    assert bucket_count(start, end, "15m") == 10_000
    assert len(plan_windows(start, end, "15m")) == 1
    assert len(plan_windows(start, end + timedelta(minutes=1), "15m")) == 2


def test_end_before_start_is_a_data_error() -> None:
    with pytest.raises(DataError):
        plan_windows(YEAR_END, YEAR_START, "15m")


@settings(max_examples=100, deadline=None)
@given(
    start_min=st.integers(0, 60 * 24 * 400),
    length_min=st.integers(1, 60 * 24 * 800),
    res_min=st.sampled_from([1, 5, 15, 60, 360, 1440]),
    cap=st.sampled_from([1, 7, 100, 10_000]),
)
def test_windows_cover_every_bucket_once_with_fewest_requests(
    start_min: int, length_min: int, res_min: int, cap: int
) -> None:
    start = YEAR_START + timedelta(minutes=start_min, seconds=13)
    end = start + timedelta(minutes=length_min)
    res = timedelta(minutes=res_min)
    total = bucket_count(start, end, res)
    if -(-total // cap) > MAX_WINDOWS:
        with pytest.raises(DataError, match="coarser resolution"):
            plan_windows(start, end, res, cap)
        return
    windows = plan_windows(start, end, res, cap)
    assert len(windows) == -(-total // cap)  # fewest possible
    assert windows[0][0] == start and windows[-1][1] == end
    counts = [bucket_count(lo, hi, res) for lo, hi in windows]
    assert all(0 < c <= cap for c in counts)
    assert sum(counts) == total  # inner borders on the grid: no bucket split or repeated
    for (_, hi), (lo, _) in itertools.pairwise(windows):
        assert hi == lo == floor_to_grid(lo, res)
