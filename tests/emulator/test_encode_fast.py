"""The timeseries encoder: calendar arithmetic for stamps, exact numbers, the spec's shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from belimo_cloud.emulator.model.resample import iso_seconds, series_json

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def expected_stamp(epoch_s: int) -> str:
    return (EPOCH + timedelta(seconds=epoch_s)).strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")


EDGES = [
    -62_135_596_800,  # 0001-01-01T00:00:00
    -1,  # 1969-12-31T23:59:59
    0,
    951_782_399,  # 2000-02-28T23:59:59
    951_782_400,  # 2000-02-29 (leap day of a 400-year)
    4_107_542_400,  # 2100-03-01 (2100 has no leap day)
    1_735_689_599,  # 2024-12-31T23:59:59
    253_402_300_799,  # 9999-12-31T23:59:59
]


def test_iso_seconds_at_calendar_edges() -> None:
    times = np.array(EDGES, dtype=np.int64)
    assert iso_seconds(times) == [expected_stamp(t) for t in EDGES]
    assert iso_seconds(times[::-1]) == [expected_stamp(t) for t in EDGES[::-1]]  # unsorted
    assert iso_seconds(np.array([], dtype=np.int64)) == []


def test_years_beyond_four_digits_take_numpys_route() -> None:
    times = np.array([253_402_300_800, -62_135_596_801], dtype=np.int64)
    assert iso_seconds(times) == ["10000-01-01T00:00:00Z", "0000-12-31T23:59:59Z"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-62_135_596_800, 253_402_300_799), max_size=50))
def test_iso_seconds_agrees_with_datetime(times: list[int]) -> None:
    assert iso_seconds(np.array(times, dtype=np.int64)) == [expected_stamp(t) for t in times]


def _values() -> np.ndarray:
    return np.array(
        [0.0, -0.0, 3.0, -17.0, 2818154040561.84, 1e-300, -1.7976931348623157e308, 2.0**60, 0.1]
    )


def test_series_json_round_trips_exactly() -> None:
    values = _values()
    starts = 1_735_689_600 + 900 * np.arange(values.size, dtype=np.int64)
    gappy = np.delete(starts, [2, 5])  # omitted buckets
    body = series_json(
        "2025-01-01T00:00:00Z",
        "2025-01-01T03:00:00Z",
        "15m",
        [
            ("a", "last", starts, values),
            ("b", "avg", gappy, np.delete(values, [2, 5])),
            ("c", "last", starts[:0], values[:0]),
            ("d", "last", starts, values[::-1].copy()),
        ],
    )
    assert b" " not in body  # compact, as the client's fast path expects
    document = json.loads(body)
    assert [s["datapointId"] for s in document["series"]] == ["a", "b", "c", "d"]
    a, b, c, d = document["series"]
    assert [v["timestamp"] for v in a["values"]] == [expected_stamp(int(t)) for t in starts]
    assert [v["timestamp"] for v in b["values"]] == [expected_stamp(int(t)) for t in gappy]
    assert c["values"] == []
    assert [v["value"] for v in a["values"]] == values.tolist()
    assert [v["value"] for v in d["values"]] == values[::-1].tolist()
    assert isinstance(a["values"][2]["value"], int)  # 3, not 3.0, as the spec shows
    assert list(a["values"][0]) == ["timestamp", "value"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4_102_444_800),
            st.floats(allow_nan=False, allow_infinity=False, width=64),
        ),
        max_size=40,
        unique_by=lambda p: p[0],
    )
)
def test_series_json_agrees_with_json(points: list[tuple[int, float]]) -> None:
    points.sort()
    times = np.array([t for t, _ in points], dtype=np.int64)
    values = np.array([v for _, v in points], dtype=np.float64)
    document = json.loads(series_json("f", "t", "1s", [("x", "last", times, values)]))
    (series,) = document["series"]
    assert [v["timestamp"] for v in series["values"]] == [expected_stamp(t) for t, _ in points]
    assert [float(v["value"]) for v in series["values"]] == [v for _, v in points]


@pytest.mark.parametrize("count", [1, 10_000])
def test_series_json_sizes(count: int) -> None:
    starts = 1_735_689_600 + 900 * np.arange(count, dtype=np.int64)
    values = np.linspace(-1e6, 1e6, count)
    document = json.loads(series_json("f", "t", "15m", [("x", "last", starts, values)]))
    got = document["series"][0]["values"]
    assert len(got) == count
    assert got[-1]["timestamp"] == expected_stamp(int(starts[-1]))
    assert got[-1]["value"] == values[-1]
