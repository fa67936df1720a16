"""Local calendar periods as UTC boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis import counter_events, named_samples, normalize_freq, period_bounds
from belimo_cloud.errors import DataError

TZ = "Europe/Zurich"


def hours(bounds: np.ndarray) -> list[float]:
    return list(np.diff(bounds) / 3.6e12)


def test_days_around_both_dst_changes() -> None:
    starts, bounds = period_bounds(
        pd.Timestamp("2018-03-24 12:00Z"), pd.Timestamp("2018-03-26 12:00Z"), "D", TZ
    )
    assert [s.day for s in starts] == [24, 25, 26]
    assert hours(bounds) == [24.0, 23.0, 24.0]
    _, bounds = period_bounds(
        pd.Timestamp("2018-10-27 12:00Z"), pd.Timestamp("2018-10-29 12:00Z"), "D", TZ
    )
    assert hours(bounds) == [24.0, 25.0, 24.0]


@pytest.mark.parametrize(
    ("freq", "first"),
    [
        ("W-MON", "2018-03-19"),
        ("W", "2018-03-19"),
        ("MS", "2018-03-01"),
        ("M", "2018-03-01"),
        ("QS", "2018-01-01"),
        ("YS", "2018-01-01"),
        ("month", "2018-03-01"),
    ],
)
def test_period_starts_are_local_midnights(freq: str, first: str) -> None:
    starts, bounds = period_bounds(
        pd.Timestamp("2018-03-21 12:00Z"), pd.Timestamp("2018-03-22 12:00Z"), freq, TZ
    )
    assert starts[0] == pd.Timestamp(first, tz=TZ)
    assert len(bounds) == len(starts) + 1


def test_unknown_period_is_a_data_error() -> None:
    with pytest.raises(DataError):
        normalize_freq("every blue moon")


def test_events_of_bucket_starts_are_reported_at_bucket_starts() -> None:
    # Hourly `last` buckets; the 23:00Z bucket holds the zero reading taken at 23:55Z.
    idx = pd.date_range("2018-01-17 20:00", periods=8, freq="h", tz="UTC")
    values = np.arange(8, dtype=float) * 3.6e6 + 1e9
    values[3] = 0.0
    events = counter_events(pd.Series(values, index=idx), resolution="1h")
    assert list(events["kind"]) == ["outage"]
    assert events["time"].iloc[0] == pd.Timestamp("2018-01-17 23:00Z")


def test_named_samples_resolve_ids_per_profile() -> None:
    catalogue = pd.DataFrame(
        {
            "dataprofile": ["energyvalve3/1.2", "gateway/1.0"],
            "datapoint_id": ["evcloud.210", "evcloud.210"],
            "name": ["Heating_E_J", "Uptime_s"],
            "unit": ["joule", "second"],
        }
    )
    devices = pd.DataFrame(
        {"device_id": ["v", "g"], "dataprofile": ["energyvalve3/1.2", "gateway/1.0"]}
    )
    samples = pd.DataFrame(
        {
            "device_id": ["v", "g", "x"],
            "datapoint_id": ["evcloud.210", "evcloud.210", "evcloud.999"],
            "timestamp": pd.to_datetime(["2018-01-01"] * 3, utc=True),
            "value": [1.0, 2.0, 3.0],
        }
    )
    named = named_samples(samples, catalogue, devices)
    assert list(named["name"][:2]) == ["Heating_E_J", "Uptime_s"]
    assert pd.isna(named["name"].iloc[2])
    assert list(named["unit"][:2]) == ["joule", "second"]
