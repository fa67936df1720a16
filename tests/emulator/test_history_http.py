"""History routes over HTTP: timeseries grid and aggregations, raw samples, CSV."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from emulator_http import first_valve, get, login, ok

DAY = {"from": "2018-06-20T00:00:00Z", "to": "2018-06-21T00:00:00Z"}


@pytest.fixture(scope="module")
def valve(emulator_url: str) -> tuple[str, str]:
    token = login(emulator_url)
    return token, first_valve(emulator_url, token)["id"]


def timeseries(url: str, valve: tuple[str, str], **query: Any) -> dict[str, Any]:
    token, device = valve
    body: dict[str, Any] = ok(
        get(url, token, f"/devices/{device}/data/history/timeseries", **query)
    )
    return body


def raw(url: str, valve: tuple[str, str], dp: str, **query: Any) -> dict[str, Any]:
    token, device = valve
    body: dict[str, Any] = ok(
        get(url, token, f"/devices/{device}/data/history/datapoints/{dp}", **query)
    )
    return body


def values_of(series: dict[str, Any]) -> tuple[list[str], list[float]]:
    return [v["timestamp"] for v in series["values"]], [v["value"] for v in series["values"]]


def test_spec_example_window_gives_five_buckets(emulator_url: str, valve: tuple[str, str]) -> None:
    body = timeseries(
        emulator_url,
        valve,
        datapointIds="evcloud.210",
        resolution="15m",
        **{"from": "2018-06-20T10:00:00Z", "to": "2018-06-20T11:15:00Z"},
    )
    assert body["from"] == "2018-06-20T10:00:00Z"
    assert body["to"] == "2018-06-20T11:15:00Z"
    assert body["resolution"] == "15m"
    stamps, _ = values_of(body["series"][0])
    assert stamps == [
        f"2018-06-20T{h}Z" for h in ("10:00:00", "10:15:00", "10:30:00", "10:45:00", "11:00:00")
    ]


def test_buckets_are_grid_aligned_even_for_unaligned_from(
    emulator_url: str, valve: tuple[str, str]
) -> None:
    body = timeseries(
        emulator_url,
        valve,
        datapointIds="evcloud.210",
        resolution="1h",
        **{"from": "2018-06-20T10:07:00Z", "to": "2018-06-20T12:30:00Z"},
    )
    stamps, _ = values_of(body["series"][0])
    assert stamps == ["2018-06-20T10:00:00Z", "2018-06-20T11:00:00Z", "2018-06-20T12:00:00Z"]


def test_aggregations_agree_with_raw_samples(emulator_url: str, valve: tuple[str, str]) -> None:
    window = {"from": "2018-06-20T10:00:00Z", "to": "2018-06-20T11:00:00Z"}
    samples = raw(emulator_url, valve, "evcloud.140", limit=2000, **window)["data"]
    power = np.array([s["value"] for s in samples], dtype=float)
    assert len(power) == 12
    expected = {
        "last": power[-1],
        "first": power[0],
        "min": power.min(),
        "max": power.max(),
        "avg": power.mean(),
        "sum": power.sum(),
        "count": 12,
    }
    for aggregation, value in expected.items():
        body = timeseries(
            emulator_url,
            valve,
            datapointIds="evcloud.140",
            resolution="1h",
            aggregation=aggregation,
            **window,
        )
        (series,) = body["series"]
        assert series["aggregation"] == aggregation
        assert series["values"][0]["timestamp"] == "2018-06-20T10:00:00Z"
        assert series["values"][0]["value"] == pytest.approx(value)


def test_from_inclusive_to_exclusive(emulator_url: str, valve: tuple[str, str]) -> None:
    body = timeseries(
        emulator_url,
        valve,
        datapointIds="evcloud.140",
        resolution="5m",
        aggregation="count",
        **{"from": "2018-06-20T10:00:00Z", "to": "2018-06-20T10:15:00Z"},
    )
    stamps, counts = values_of(body["series"][0])
    assert stamps == ["2018-06-20T10:00:00Z", "2018-06-20T10:05:00Z", "2018-06-20T10:10:00Z"]
    assert counts == [1, 1, 1]


def test_unknown_ids_are_ignored_and_order_kept(emulator_url: str, valve: tuple[str, str]) -> None:
    body = timeseries(
        emulator_url, valve, datapointIds="evcloud.140,nope.1,evcloud.210", resolution="1h", **DAY
    )
    assert [s["datapointId"] for s in body["series"]] == ["evcloud.140", "evcloud.210"]
    empty = timeseries(emulator_url, valve, datapointIds="nope.1", resolution="1h", **DAY)
    assert empty["series"] == []


def test_point_count_resolution(emulator_url: str, valve: tuple[str, str]) -> None:
    body = timeseries(emulator_url, valve, datapointIds="evcloud.210", **DAY)
    assert body["resolution"] == "15m"  # default: 100 points -> the finest grid step that fits
    assert len(body["series"][0]["values"]) == 96
    body = timeseries(emulator_url, valve, datapointIds="evcloud.210", resolution="24", **DAY)
    assert body["resolution"] == "1h"
    assert len(body["series"][0]["values"]) == 24


def test_ten_thousand_buckets_are_served(emulator_url: str, valve: tuple[str, str]) -> None:
    body = timeseries(
        emulator_url,
        valve,
        datapointIds="evcloud.210,evcloud.140",
        resolution="15m",
        **{"from": "2018-01-01T00:00:00Z", "to": "2018-04-15T04:00:00Z"},
    )
    assert [len(s["values"]) for s in body["series"]] == [10_000, 10_000]


def test_data_ends_at_now(emulator_url: str, valve: tuple[str, str]) -> None:
    body = timeseries(
        emulator_url,
        valve,
        datapointIds="evcloud.210",
        resolution="1h",
        aggregation="count",
        **{"from": "2026-11-20T08:00:00Z", "to": "2026-11-21T00:00:00Z"},
    )
    stamps, counts = values_of(body["series"][0])
    # The clock is frozen at 12:00: the sample taken at that instant is the last one.
    assert stamps[-2:] == ["2026-11-20T11:00:00Z", "2026-11-20T12:00:00Z"]
    assert counts[-2:] == [12, 1]


def test_designed_gap_leaves_empty_buckets_out(emulator_url: str) -> None:
    token = login(emulator_url)
    faults = ok(__import__("httpx").get(f"{emulator_url}/_emulator/designed-faults"))
    gap = next(f for f in faults if f["kind"] == "gap")
    body = ok(
        get(
            emulator_url,
            token,
            f"/devices/{gap['device_id']}/data/history/timeseries",
            datapointIds="evcloud.210",
            resolution="1d",
            **{"from": "2018-02-01T00:00:00Z", "to": "2018-02-15T00:00:00Z"},
        )
    )
    stamps, _ = values_of(body["series"][0])
    assert "2018-02-07T00:00:00Z" not in stamps
    assert "2018-02-01T00:00:00Z" in stamps


def test_raw_history_pages_in_both_directions(emulator_url: str, valve: tuple[str, str]) -> None:
    window = {"from": "2018-06-20T10:00:00Z", "to": "2018-06-20T11:00:00Z"}
    everything = raw(emulator_url, valve, "evcloud.210", limit=2000, **window)
    assert everything["paging"] == {"total": 12, "offset": 0, "limit": 2000}
    assert everything["sorting"] == {"field": "time", "direction": "ASC"}
    assert everything["filter"] == {**window, "datapointId": "evcloud.210"}
    stamps = [s["timestamp"] for s in everything["data"]]
    assert stamps[0] == "2018-06-20T10:00:00Z"
    assert stamps == sorted(stamps)
    page = raw(emulator_url, valve, "evcloud.210", limit=5, offset=10, **window)
    assert page["data"] == everything["data"][10:]
    newest = raw(emulator_url, valve, "evcloud.210", limit=3, sortDirection="DESC", **window)
    assert newest["data"] == everything["data"][::-1][:3]
    text = raw(emulator_url, valve, "default.1", limit=3, **window)
    assert [s["value"] for s in text["data"]] == ["OK", "OK", "OK"]


def test_raw_history_of_unknown_datapoint_is_404(emulator_url: str, valve: tuple[str, str]) -> None:
    token, device = valve
    response = get(emulator_url, token, f"/devices/{device}/data/history/datapoints/nope.1")
    assert response.status_code == 404


def test_csv_without_datapoint_ids_has_every_datapoint(
    emulator_url: str, valve: tuple[str, str]
) -> None:
    token, device = valve
    profile = ok(get(emulator_url, token, "/definitions/dataprofiles/energyvalve3/1.2"))
    response = get(
        emulator_url,
        token,
        f"/devices/{device}/data/download",
        **{"from": "2018-06-20T10:00:00Z", "to": "2018-06-20T10:10:00Z"},
    )
    header, *rows = response.text.strip().split("\r\n")
    assert header.split(";")[1:] == [dp["id"] for dp in profile["datapoints"]]
    assert len(rows) == 2
