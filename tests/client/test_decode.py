"""The timeseries hot path: msgspec Structs into numpy arrays, vectorised timestamps."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest

from belimo_cloud.client.decode import decode_timeseries, parse_timestamps, values_to_array
from belimo_cloud.errors import DataError
from tests.client.spec_examples import example


@pytest.mark.spec
def test_spec_timeseries_example(spec: dict[str, Any]) -> None:
    body = example(spec, "/devices/{deviceId}/data/history/timeseries")
    (series,) = decode_timeseries(body)
    assert series.datapoint_id == "zwk892PP.1"
    assert series.values.dtype == np.float64
    assert series.values.tolist() == [3.0, 8.0, 13.0, 18.0, 19.0]
    assert series.timestamps.dtype == np.dtype("datetime64[ns]")
    expected = np.array(
        [
            "2018-06-20T10:00",
            "2018-06-20T10:15",
            "2018-06-20T10:30",
            "2018-06-20T10:45",
            "2018-06-20T11:00",
        ],
        dtype="datetime64[ns]",
    )
    assert (series.timestamps == expected).all()


def test_parse_timestamps_fast_and_slow_paths_agree() -> None:
    plain = ["2025-01-01T00:00:00Z", "2025-07-01T12:34:56Z"]
    millis = ["2025-01-01T00:00:00.000Z", "2025-07-01T12:34:56.789Z"]
    mixed = ["2025-01-01T01:00:00+01:00", "2025-07-01T12:34:56Z"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy timezone deprecation warning
        fast = parse_timestamps(plain)
        fast_ms = parse_timestamps(millis)
    assert fast.tolist() == parse_timestamps(mixed).tolist()
    assert fast_ms[1] == np.datetime64("2025-07-01T12:34:56.789", "ns")
    assert parse_timestamps([]).dtype == np.dtype("datetime64[ns]")


def test_unreadable_timestamp_is_a_data_error() -> None:
    with pytest.raises(DataError, match="timestamp"):
        parse_timestamps(["2025-01-01T00:00:00Z", "not a time at all!!"])


def test_values_to_array() -> None:
    assert values_to_array([1, None, 2.5]).tolist()[::2] == [1.0, 2.5]
    assert np.isnan(values_to_array([1, None])[1])
    assert values_to_array(["OK", 1]).dtype == object


def _body(series: list[dict[str, Any]]) -> bytes:
    return json.dumps({"from": "x", "to": "y", "resolution": "15m", "series": series}).encode()


def test_nulls_ints_text_and_empty_series() -> None:
    body = _body(
        [
            {
                "datapointId": "a",
                "values": [
                    {"timestamp": "2025-01-01T00:00:00Z", "value": 1},
                    {"timestamp": "2025-01-01T00:15:00Z", "value": None},
                ],
            },
            {"datapointId": "b", "values": []},
            {"datapointId": "c", "values": [{"timestamp": "2025-01-01T00:00:00Z", "value": "OK"}]},
        ]
    )
    a, b, c = decode_timeseries(body)
    assert a.values[0] == 1.0 and np.isnan(a.values[1])
    assert len(b.timestamps) == 0
    assert c.values.tolist() == ["OK"]


def test_unknown_fields_are_ignored_and_garbage_is_a_data_error() -> None:
    body = _body(
        [
            {
                "datapointId": "a",
                "extra": 1,
                "values": [{"timestamp": "2025-01-01T00:00:00Z", "value": 2, "quality": "good"}],
            }
        ]
    )
    assert decode_timeseries(body)[0].values.tolist() == [2.0]
    with pytest.raises(DataError):
        decode_timeseries(b'{"series": [{"values": []}]}')  # no datapointId
    with pytest.raises(DataError):
        decode_timeseries(b'{"series": "nope"}')
    with pytest.raises(DataError):
        decode_timeseries(b"<html>502</html>")
