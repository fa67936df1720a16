"""Bucket aggregation against sums worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from belimo_cloud.emulator.model.resample import iso_seconds, numbers, resample, series_json

T0 = 1_529_488_800  # 2018-06-20T10:00:00Z, a multiple of 900


def sample() -> tuple[np.ndarray, np.ndarray]:
    # Two samples in 10:00, none in 10:15 (one NaN), three in 10:30.
    times = np.array([T0, T0 + 300, T0 + 900, T0 + 1800, T0 + 2100, T0 + 2400], dtype=np.int64)
    values = np.array([1.0, 3.0, np.nan, 10.0, 20.0, 60.0])
    return times, values


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("last", [3.0, 60.0]),
        ("first", [1.0, 10.0]),
        ("min", [1.0, 10.0]),
        ("max", [3.0, 60.0]),
        ("sum", [4.0, 90.0]),
        ("avg", [2.0, 30.0]),
        ("count", [2.0, 3.0]),
    ],
)
def test_aggregations_omit_empty_buckets(aggregation: str, expected: list[float]) -> None:
    times, values = sample()
    starts, result = resample(times, values, 900, aggregation)
    assert starts.tolist() == [T0, T0 + 1800]
    assert result.tolist() == expected


def test_buckets_sit_on_the_epoch_grid() -> None:
    times = np.array([T0 + 420, T0 + 899, T0 + 900], dtype=np.int64)
    starts, result = resample(times, np.array([1.0, 2.0, 3.0]), 900, "last")
    assert starts.tolist() == [T0, T0 + 900]
    assert result.tolist() == [2.0, 3.0]
    day_starts, _ = resample(times, np.array([1.0, 2.0, 3.0]), 86_400, "last")
    assert day_starts.tolist() == [T0 - 10 * 3600]


def test_no_samples_no_buckets() -> None:
    starts, result = resample(np.array([T0], dtype=np.int64), np.array([np.nan]), 900, "avg")
    assert starts.size == 0
    assert result.size == 0


def test_unknown_aggregation_is_a_programming_error() -> None:
    times, values = sample()
    with pytest.raises(ValueError, match="median"):
        resample(times, values, 900, "median")


def test_iso_seconds_and_numbers() -> None:
    assert iso_seconds(np.array([T0], dtype=np.int64)) == ["2018-06-20T10:00:00Z"]
    assert numbers(np.array([3.0, 8.0])) == [3, 8]
    mixed = numbers(np.array([3.0, 8.5]))
    assert mixed == [3, 8.5]
    assert isinstance(mixed[0], int)


def test_series_json_is_the_spec_shape() -> None:
    times, values = sample()
    starts, result = resample(times, values, 900, "last")
    body = json.loads(
        series_json(
            "2018-06-20T10:00:00Z",
            "2018-06-20T11:15:00Z",
            "15m",
            [("zwk892PP.1", "last", starts, result), ("zwk892PP.2", "last", starts, result)],
        )
    )
    assert body == {
        "from": "2018-06-20T10:00:00Z",
        "to": "2018-06-20T11:15:00Z",
        "resolution": "15m",
        "series": [
            {
                "datapointId": dp,
                "aggregation": "last",
                "values": [
                    {"timestamp": "2018-06-20T10:00:00Z", "value": 3},
                    {"timestamp": "2018-06-20T10:30:00Z", "value": 60},
                ],
            }
            for dp in ("zwk892PP.1", "zwk892PP.2")
        ],
    }
