"""The byte scanner of timeseries bodies: exact where it reads, the general decoder elsewhere."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from belimo_cloud.client import decode as decode_module
from belimo_cloud.client.decode import SeriesArrays, decode_timeseries
from belimo_cloud.errors import DataError

T0 = 1_735_689_600  # 2025-01-01T00:00:00Z


def stamp(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact(series: list[tuple[str, list[tuple[int, Any]]]]) -> bytes:
    """A body in the layout the emulator (and, we believe, Belimo) writes: no whitespace."""
    document = {
        "from": stamp(T0),
        "to": stamp(T0 + 86_400),
        "resolution": "15m",
        "series": [
            {
                "datapointId": dp,
                "aggregation": "last",
                "values": [{"timestamp": stamp(t), "value": v} for t, v in points],
            }
            for dp, points in series
        ],
    }
    return msgspec.json.encode(document)


def general(body: bytes) -> list[SeriesArrays]:
    """What the msgspec Struct decoder makes of ``body`` (the reference)."""
    return decode_module._decode_timeseries_structs(body)


def assert_same(fast: list[SeriesArrays], reference: list[SeriesArrays]) -> None:
    assert [s.datapoint_id for s in fast] == [s.datapoint_id for s in reference]
    for a, b in zip(fast, reference, strict=True):
        assert a.timestamps.dtype == np.dtype("datetime64[ns]")
        assert a.values.dtype == b.values.dtype
        assert a.timestamps.tolist() == b.timestamps.tolist()
        assert np.array_equal(a.values, b.values, equal_nan=True)
        assert np.array_equal(np.signbit(a.values), np.signbit(b.values))  # -0.0 stays -0.0


def _refuse(body: bytes) -> list[SeriesArrays]:
    raise AssertionError("the general decoder ran; the scanner should have read this body")


@pytest.fixture
def scanner_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the general decoder runs: the body must be read by the scanner."""
    monkeypatch.setattr(decode_module, "_decode_timeseries_structs", _refuse)


ODD_VALUES = [
    0,
    -0.0,
    3,
    -17,
    2818154040561.84,
    2818184183198.8496,
    -1e-300,
    5e-324,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    2**53 + 1,
    123456789012345678901234567890,
    1e16,
    0.1,
    32.4933057969076,
]


def test_odd_numbers_are_exact_and_read_by_the_scanner() -> None:
    points = [(T0 + 900 * i, v) for i, v in enumerate(ODD_VALUES)]
    body = compact([("a", points), ("b", points[::-1])])
    with_scanner = decode_timeseries(body)
    assert_same(with_scanner, general(body))
    expected = [float(v) for v in ODD_VALUES]
    assert with_scanner[0].values.tolist() == expected
    assert not np.isnan(with_scanner[0].values).any()


def test_the_scanner_reads_compact_bodies(scanner_only: None) -> None:
    points = [(T0 + 900 * i, float(i) * 1.5 - 7) for i in range(200)]
    gappy = [p for i, p in enumerate(points) if i % 7]  # omitted buckets
    body = compact([("a", points), ("b", gappy), ("c", []), ("d", points)])
    a, b, c, d = decode_timeseries(body)
    assert a.timestamps[1] - a.timestamps[0] == np.timedelta64(900, "s")
    expected = np.array([t for t, _ in gappy], dtype="datetime64[s]").astype("datetime64[ns]")
    assert (b.timestamps == expected).all()
    assert b.values.tolist() == [v for _, v in gappy]
    assert len(c.timestamps) == 0 and c.values.dtype == np.float64
    assert d.timestamps.tolist() == a.timestamps.tolist()


def test_series_with_different_buckets_in_one_body() -> None:
    first = [(T0 + 900 * i, float(i)) for i in range(10)]
    second = [(T0 + 86_400 + 3600 * i, float(-i)) for i in range(10)]  # same count, other times
    body = compact([("a", first), ("b", second)])
    a, b = decode_timeseries(body)
    assert a.timestamps[0] == np.datetime64(T0, "s")
    assert b.timestamps[0] == np.datetime64(T0 + 86_400, "s")
    assert_same([a, b], general(body))


def test_odd_but_valid_timestamps() -> None:
    times = [
        -8_520_336_000,  # 1700-01-01, near the start of what datetime64[ns] holds
        -86_400 * 365 * 100,  # 1870
        0,
        951_782_400,  # 2000-02-29 (leap day of a 400-year)
        4_107_542_399,  # 2100-02-28T23:59:59 (2100 is no leap year)
        9_222_000_000,  # 2262-03-26, near its end
    ]
    body = compact([("a", [(t, 1.0) for t in times])])
    (series,) = decode_timeseries(body)
    assert series.timestamps.astype("datetime64[s]").astype(np.int64).tolist() == times


@pytest.mark.parametrize(
    "body",
    [
        # whitespace (the json module's default separators)
        json.dumps(
            {
                "series": [
                    {
                        "datapointId": "a",
                        "values": [{"timestamp": "2025-01-01T00:00:00Z", "value": 1.5}],
                    }
                ]
            }
        ).encode(),
        # other key order
        b'{"series":[{"datapointId":"a","values":[{"value":1.5,"timestamp":"2025-01-01T00:00:00Z"}]}]}',
        # an extra key after the value, and before the timestamp
        b'{"series":[{"datapointId":"a","values":[{"timestamp":"2025-01-01T00:00:00Z","value":1.5,"q":"x"}]}]}',
        b'{"series":[{"datapointId":"a","values":[{"q":{"a":1},"timestamp":"2025-01-01T00:00:00Z","value":1.5}]}]}',
        # milliseconds and offsets
        b'{"series":[{"datapointId":"a","values":[{"timestamp":"2025-01-01T00:00:00.250Z","value":1.5}]}]}',
        b'{"series":[{"datapointId":"a","values":[{"timestamp":"2025-01-01T01:00:00+01:00","value":1.5}]}]}',
        # a null, a bool, a text value, a nested value
        b'{"series":[{"datapointId":"a","values":[{"timestamp":"2025-01-01T00:00:00Z","value":null},'
        b'{"timestamp":"2025-01-01T00:15:00Z","value":2}]}]}',
        b'{"series":[{"datapointId":"a","values":[{"timestamp":"2025-01-01T00:00:00Z","value":true}]}]}',
        b'{"series":[{"datapointId":"a","values":[{"timestamp":"2025-01-01T00:00:00Z","value":"1.5"}]}]}',
        b'{"series":[{"datapointId":"a","values":[{"timestamp":"2025-01-01T00:00:00Z","value":[1]}]}]}',
        # a missing value, values null, series null, a "}" in an id
        b'{"series":[{"datapointId":"a","values":[{"timestamp":"2025-01-01T00:00:00Z"}]}]}',
        b'{"series":[{"datapointId":"a","values":null}]}',
        b'{"series":null}',
        b'{"series":[{"datapointId":"}],[{","values":[{"timestamp":"2025-01-01T00:00:00Z","value":1}]}]}',
        # an escaped character inside an otherwise fixed-width stamp
        b'{"series":[{"datapointId":"a","values":[{"timestamp":"2025-01-01T00:00:0\\u0030Z","value":1}]}]}',
    ],
)
def test_other_layouts_decode_as_the_general_decoder_does(body: bytes) -> None:
    assert_same(decode_timeseries(body), general(body))


@pytest.mark.parametrize(
    "stamp_text",
    [
        "2025-02-30T00:00:00Z",  # no such day
        "2025-13-01T00:00:00Z",
        "2025-01-01T24:00:00Z",
        "2025-01-01T00:60:00Z",
        "2025-01-0xT00:00:00Z",
        "2025/01/01T00:00:00Z",
        "+025-01-01T00:00:00Z",
        "2025-01-01 00:00:00Z",  # valid ISO-8601 (space), read by the general parser
    ],
)
def test_unusual_stamps_never_pass_the_scanner(stamp_text: str) -> None:
    body = compact([("a", [(T0, 1.0)])]).replace(b"2025-01-01T00:00:00Z", stamp_text.encode())
    try:
        reference = general(body)
    except DataError:
        with pytest.raises(DataError):
            decode_timeseries(body)
        return
    assert_same(decode_timeseries(body), reference)


@pytest.mark.parametrize("epoch_s", [253_402_300_799, -8_520_336_000 - 86_400 * 365 * 30])
def test_stamps_beyond_datetime64_ns_are_a_data_error(epoch_s: int) -> None:
    """Years 9999 or 1670 do not fit pandas' nanoseconds: an error, never a wrapped time."""
    body = compact([("a", [(T0, 1.0), (epoch_s, 2.0)])])
    with pytest.raises(DataError, match="1677"):
        decode_timeseries(body)


def test_numbers_beyond_float64_fail_as_before() -> None:
    body = compact([("a", [(T0, 1.0)])]).replace(b'"value":1.0', b'"value":1e400')
    try:
        reference = general(body)
    except DataError:
        with pytest.raises(DataError):
            decode_timeseries(body)
        return
    assert_same(decode_timeseries(body), reference)


def test_malformed_json_is_a_data_error() -> None:
    good = compact([("a", [(T0, 1.0), (T0 + 900, 2.0)])])
    for broken in (good[:-3], good.replace(b",{", b",,{", 1), good.replace(b"2.0", b"02.0")):
        with pytest.raises(DataError):
            decode_timeseries(broken)


finite = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**63), 2**63)
epochs = st.integers(-9_223_372_036, 9_223_372_036)  # what datetime64[ns] holds


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(epochs, finite), max_size=60), st.integers(1, 3))
def test_scanner_matches_the_general_decoder(points: list[tuple[int, Any]], copies: int) -> None:
    body = compact([(f"dp.{i}", points) for i in range(copies)])
    with mock.patch.object(decode_module, "_decode_timeseries_structs", _refuse):
        fast = decode_timeseries(body)  # every such body is the scanner's
    assert_same(fast, general(body))
    for series in fast:
        assert series.values.tolist() == [float(v) for _, v in points]
        assert not any(math.isnan(v) for v in series.values.tolist())


def test_arrays_are_writable_and_not_shared(scanner_only: None) -> None:
    """Callers may change a series in place without touching another series."""
    points = [(T0 + 900 * i, float(i)) for i in range(5)]
    a, b = decode_timeseries(compact([("a", points), ("b", points)]))
    a.values[0] = 99.0
    a.timestamps[0] = np.datetime64(0, "ns")
    assert b.values[0] == 0.0
    assert b.timestamps[0] == np.datetime64(T0, "s")
