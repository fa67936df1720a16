"""The timeseries body against a plain encoder: the same JSON values, number types included.

The body is built by Arrow kernels (numbers formatted in C++); the reference here is the
straightforward encoding of the documented meaning: one ``{"timestamp", "value"}`` object per
bucket, integral values below 2**53 as JSON integers, other finite ones as floats, NaN and
infinities as null (what msgspec writes for them).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from belimo_cloud.emulator.model.resample import iso_seconds, numbers, series_json

Series = tuple[str, str, npt.NDArray[np.int64], npt.NDArray[np.float64]]

EDGE_VALUES = [
    100.0,
    1e20,
    -0.0,
    0.0,
    5e-324,  # smallest subnormal
    2.2250738585072014e-308,  # smallest normal
    1e-300,
    1e-7,
    0.00001,
    123456789012.5,  # a large counter
    123456789012.0,
    2818154040561.84,
    1e15,
    2.0**53 - 1,
    2.0**53,
    2.0**53 + 2,
    2.0**60,
    -1.7976931348623157e308,
    1.7976931348623157e308,
    0.1,
    1 / 3,
    -17.0,
    float("nan"),
    float("inf"),
    float("-inf"),
]


def reference_body(start: str, end: str, resolution: str, series: list[Series]) -> bytes:
    """The body as documents encoded one object per bucket (the previous encoder's meaning)."""
    with np.errstate(invalid="ignore"):  # numbers() rounds infinities
        numbers_of = [numbers(values) for _, _, _, values in series]
    document = {
        "from": start,
        "to": end,
        "resolution": resolution,
        "series": [
            {
                "datapointId": dp,
                "aggregation": aggregation,
                "values": [
                    {"timestamp": stamp, "value": value}
                    for stamp, value in zip(iso_seconds(stamps), numbered, strict=True)
                ],
            }
            for (dp, aggregation, stamps, _), numbered in zip(series, numbers_of, strict=True)
        ],
    }
    return msgspec.json.encode(document)  # NaN and infinities become null


def typed(value: Any) -> Any:
    """A parsed document with each number's JSON type kept beside it (1 and 1.0 differ)."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float):
        return ("float", value.hex())  # hex: -0.0 and 0.0 differ, exact bits compared
    if isinstance(value, int):
        return ("int", value)
    return value


def assert_same_values(series: list[Series]) -> None:
    body = series_json("2018-01-01T00:00:00Z", "2018-04-15T04:00:00Z", "15m", series)
    assert b" " not in body  # compact, as the client's fast path expects
    expected = reference_body("2018-01-01T00:00:00Z", "2018-04-15T04:00:00Z", "15m", series)
    assert typed(json.loads(body)) == typed(json.loads(expected))


def random_values(rng: np.random.Generator, count: int) -> npt.NDArray[np.float64]:
    """Values of every kind: raw bit patterns (subnormal to huge), readings, counters, edges."""
    kinds = rng.integers(0, 6, size=count)
    bits = rng.integers(0, 2**63, size=count, dtype=np.int64).view(np.float64)
    bits = np.where(rng.random(count) < 0.5, bits, -bits)
    scale = 10.0 ** rng.integers(0, 4, size=count)  # readings of 0 to 3 decimals
    readings = np.round(rng.normal(40.0, 15.0, size=count) * scale) / scale
    counters = np.cumsum(rng.exponential(1e5, size=count)) + 1e11
    whole = rng.integers(-(2**53), 2**53, size=count).astype(np.float64)
    edges = np.array(EDGE_VALUES)[rng.integers(0, len(EDGE_VALUES), size=count)]
    choices = np.stack([bits, readings, counters, np.round(counters), whole, edges])
    values: npt.NDArray[np.float64] = choices[kinds, np.arange(count)]
    values[rng.random(count) < 0.05] = np.nan  # nulls
    return values


@pytest.mark.parametrize("seed", range(6))
def test_random_series_parse_to_the_same_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 3000))
    starts = 1_514_764_800 + 900 * np.sort(rng.choice(4 * count, size=count, replace=False))
    with np.errstate(invalid="ignore"):  # infinities
        whole_numbers = np.round(random_values(rng, count) % 1e6)
    other = np.sort(rng.choice(starts, size=count // 2, replace=False))
    series: list[Series] = [
        ("evcloud.210", "avg", starts, random_values(rng, count)),
        ("evcloud.200", "avg", starts, random_values(rng, count)),  # shares the stamps
        ("evcloud.140", "avg", other, random_values(rng, other.size)),
        ("evcloud.100", "avg", starts[:0], np.empty(0)),
        ("evcloud.101", "avg", starts, np.full(count, np.nan)),  # all null
        ("evcloud.102", "avg", starts, whole_numbers),
    ]
    assert_same_values(series)


def test_edge_values_one_by_one() -> None:
    values = np.array(EDGE_VALUES)
    starts = 1_735_689_600 + 900 * np.arange(values.size, dtype=np.int64)
    assert_same_values([("a", "last", starts, values), ("b", "last", starts[:1], values[:1])])
    body = series_json("f", "t", "15m", [("a", "last", starts, values)])
    got = [item["value"] for item in json.loads(body)["series"][0]["values"]]
    assert got[:4] == [100, 1e20, 0, 0]
    assert isinstance(got[0], int) and isinstance(got[1], float)
    assert got[-3:] == [None, None, None]


def test_years_of_other_widths_keep_the_layout() -> None:
    starts = np.array([-62_135_596_801, 253_402_300_800], dtype=np.int64)  # years 0 and 10000
    assert_same_values([("a", "last", starts, np.array([1.5, np.nan]))])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(width=64), min_size=1, max_size=30))
def test_any_float64_parses_to_the_same_value(values: list[float]) -> None:
    starts = 1_735_689_600 + 60 * np.arange(len(values), dtype=np.int64)
    assert_same_values([("x", "sum", starts, np.array(values, dtype=np.float64))])
