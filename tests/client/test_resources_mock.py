"""Edge cases a real server cannot produce on demand, on httpx.MockTransport."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from belimo_cloud.client import Client, DeviceData
from belimo_cloud.errors import DataError, NotFound
from tests.client.mockapi import PASSWORD, SECRET, MockCloud, as_json, timeseries_handler

YEAR = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
DPS = ["evcloud.210", "evcloud.200", "evcloud.140", "evcloud.100"]


def _device(i: int) -> dict[str, Any]:
    return {"id": f"dev-{i:02d}", "displayName": f"Valve {i:02d}", "health": {"state": "OK"}}


def test_device_list_shrinking_mid_iteration_misses_and_repeats_nothing() -> None:
    cloud = MockCloud()
    fleet = [_device(i) for i in range(36)]
    calls: list[int] = []

    def devices(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        calls.append(offset)
        if len(calls) == 2:
            del fleet[2]  # removed between page 1 and page 2: offset paging would skip one
        return as_json(
            {
                "data": fleet[offset : offset + limit],
                "paging": {"total": len(fleet), "offset": offset, "limit": limit},
            }
        )

    cloud.route("/devices", devices)
    with cloud.client() as client:
        ids = [d.id for d in client.devices.list(page_size=20)]
    assert len(ids) == len(set(ids))
    assert set(ids) >= {d["id"] for d in fleet}  # every device that still exists
    assert "dev-20" in ids  # the one that shifted into page 1's range


def test_null_data_body_is_an_empty_state() -> None:
    cloud = MockCloud()
    cloud.route("/devices/d1/data", lambda r: httpx.Response(200, content=b"null"))
    cloud.route("/devices/d2/data", lambda r: httpx.Response(200, content=b""))
    with cloud.client() as client:
        for device in ("d1", "d2"):
            data = client.devices.data(device)
            assert isinstance(data, DeviceData)
            assert data.timestamp is None and data.values == {}


def test_data_at_sends_iso_time() -> None:
    cloud = MockCloud()
    cloud.route(
        "/devices/d1/data",
        lambda r: as_json(
            {"timestamp": "2025-01-01T00:00:00.000Z", "datapoints": {"x.1": {"value": 2}}}
        ),
    )
    with cloud.client() as client:
        data = client.devices.data("d1", at="2025-01-01T01:00:00+01:00")
    assert data["x.1"] == 2
    assert cloud.api_requests("/devices/d1/data")[0].url.params["at"] == "2025-01-01T00:00:00Z"


@pytest.mark.parametrize("body", [b"{truncated", b"[1, 2]", b'{"id": null}', b"<html/>"])
def test_malformed_json_is_a_data_error(body: bytes) -> None:
    cloud = MockCloud()
    cloud.route("/devices/d1", lambda r: httpx.Response(200, content=body))
    cloud.route("/devices", lambda r: httpx.Response(200, content=body))
    cloud.route("/devices/d1/data/history/timeseries", lambda r: httpx.Response(200, content=body))
    with cloud.client() as client:
        with pytest.raises(DataError):
            client.devices.get("d1")
        if body != b'{"id": null}':  # a page without data is an empty page
            with pytest.raises(DataError):
                list(client.devices.list())
        with pytest.raises(DataError):
            client.history.timeseries("d1", "x.1", *YEAR)


def test_unknown_device_is_not_found() -> None:
    cloud = MockCloud()
    with cloud.client() as client, pytest.raises(NotFound):
        client.devices.get("nobody")


def test_timeseries_year_four_datapoints_is_four_requests_without_border_duplicates() -> None:
    cloud = MockCloud()
    cloud.route("/devices/d1/data/history/timeseries", timeseries_handler(inclusive_end=True))
    with cloud.client(max_workers=4) as client:
        frame = client.history.timeseries("d1", DPS, *YEAR, resolution="15m")
    sent = cloud.api_requests("/devices/d1/data/history/timeseries")
    assert len(sent) == 4
    assert all(r.url.params["datapointIds"] == ",".join(DPS) for r in sent)
    assert list(frame.columns) == ["device_id", "datapoint_id", "timestamp", "value"]
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["value"].dtype == np.float64
    assert len(frame) == 4 * 35_040
    for _, group in frame.groupby("datapoint_id"):
        steps = group["timestamp"].diff().dropna()
        assert (steps == pd.Timedelta(minutes=15)).all()  # no duplicate, no gap
        assert group["timestamp"].iloc[0] == pd.Timestamp(YEAR[0])
        assert group["timestamp"].iloc[-1] == pd.Timestamp(YEAR[1]) - pd.Timedelta(minutes=15)
    assert frame["datapoint_id"].tolist() == sorted(frame["datapoint_id"])  # sorted
    assert (frame["device_id"] == "d1").all()


def test_timeseries_pivot_and_timedelta_resolution() -> None:
    cloud = MockCloud()
    cloud.route("/devices/d1/data/history/timeseries", timeseries_handler())
    with cloud.client() as client:
        wide = client.history.timeseries(
            "d1",
            ["a.1", "a.2"],
            "2025-01-01",
            "2025-01-02",
            resolution=timedelta(hours=1),
            pivot=True,
        )
    assert list(wide.columns) == ["a.1", "a.2"] and len(wide) == 24
    assert cloud.api_requests()[0].url.params["resolution"] == "1h"


def test_fetch_window_is_exactly_one_request() -> None:
    cloud = MockCloud()
    cloud.route("/devices/d1/data/history/timeseries", timeseries_handler())
    with cloud.client() as client:
        frame = client.history.fetch_window(
            "d1", "a.1", "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", "15m", "last"
        )
    assert len(cloud.api_requests()) == 1 and len(frame) == 96


def test_timeseries_with_empty_answer_has_the_columns() -> None:
    cloud = MockCloud()
    cloud.route("/devices/d1/data/history/timeseries", lambda r: as_json({"series": []}))
    cloud.route(
        "/devices/d2/data/history/timeseries", lambda r: httpx.Response(200, content=b"null")
    )
    with cloud.client() as client:
        frame = client.history.timeseries("d1", "a.1", "2025-01-01", "2025-01-02")
        assert client.history.timeseries("d2", "a.1", "2025-01-01", "2025-01-02").empty
    assert frame.empty and list(frame.columns) == [
        "device_id",
        "datapoint_id",
        "timestamp",
        "value",
    ]


def test_raw_walks_every_page() -> None:
    cloud = MockCloud()
    samples = [{"timestamp": f"2025-01-01T00:{m:02d}:00Z", "value": m} for m in range(50)]

    def raw(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return as_json(
            {
                "data": samples[offset : offset + limit],
                "paging": {"total": len(samples), "offset": offset, "limit": limit},
            }
        )

    cloud.route("/devices/d1/data/history/datapoints/x.1", raw)
    with cloud.client() as client:
        frame = client.history.raw("d1", "x.1", "2025-01-01", "2025-01-02", page_size=20)
    assert len(cloud.api_requests()) == 3
    assert frame["value"].tolist() == [float(m) for m in range(50)]
    assert frame["timestamp"].is_monotonic_increasing


def test_download_parses_the_spec_csv_shape_sorted() -> None:
    csv = (
        "timestamp;default.1;default.2;abcdefg.1\n2018-03-21T11:00:00Z;OK;;120\n"
        "2018-03-21T11:01:00Z;WARN;;\n2018-03-21T11:02:00Z;OK;;90\n"
        "2018-03-21T11:00:00Z;WARN;Sensor failure;\n"
    )
    cloud = MockCloud()
    cloud.route(
        "/devices/d1/data/download",
        lambda r: httpx.Response(200, content=csv.encode(), headers={"content-type": "text/csv"}),
    )
    with cloud.client() as client:
        wide = client.history.download("d1")
        long = client.history.download("d1", ["abcdefg.1"], long=True)
    assert list(wide.columns) == ["timestamp", "default.1", "default.2", "abcdefg.1"]
    assert wide["timestamp"].is_monotonic_increasing and len(wide) == 4
    assert wide["abcdefg.1"].dtype == np.float64
    assert wide["abcdefg.1"].isna().sum() == 2
    assert wide["default.2"].dropna().tolist() == ["Sensor failure"]
    assert set(long["datapoint_id"]) == {"abcdefg.1", "default.1", "default.2"}
    assert "datapointIds" in cloud.api_requests()[1].url.params


def test_dataprofiles_are_cached_and_refs_normalised() -> None:
    cloud = MockCloud()
    profile = {
        "id": "energyvalve3",
        "version": "1.2",
        "ref": "energyvalve3/1.2",
        "datapoints": [
            {
                "id": "evcloud.210",
                "featureValues": {
                    "default.name": "Heating_E_J",
                    "default.description": "Heating Energy in J",
                },
            }
        ],
    }
    cloud.route("/definitions/dataprofiles/energyvalve3/1.2", lambda r: as_json(profile))
    with cloud.client() as client:
        for ref in (
            "energyvalve3/1.2",
            "/definitions/dataprofiles/energyvalve3/1.2",
            "definitions/dataprofiles/energyvalve3/1.2/",
        ):
            assert client.dataprofiles.get(ref).find("energy")[0].id == "evcloud.210"
        with pytest.raises(DataError):
            client.dataprofiles.get("no-version")
    assert len(cloud.api_requests()) == 1


def test_repr_has_no_secrets() -> None:
    cloud = MockCloud()
    with cloud.client() as client:
        text = repr(client) + repr(client.settings) + repr(client.session)
    assert SECRET not in text and PASSWORD not in text
    assert "api.mock.test" in text


def test_client_from_settings_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    cloud = MockCloud()
    monkeypatch.setenv("BELIMO_API_URL", "https://api.mock.test")
    monkeypatch.setenv("BELIMO_TOKEN_URL", "https://id.mock.test/oauth/token")
    monkeypatch.setenv("BELIMO_CLIENT_ID", "cid")
    monkeypatch.setenv("BELIMO_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("BELIMO_USERNAME", "u")
    monkeypatch.setenv("BELIMO_PASSWORD", PASSWORD)
    cloud.route("/devices/stats", lambda r: as_json({"totalDevices": 3}))
    with Client.from_env(transport=httpx.MockTransport(cloud)) as client:
        assert client.settings.api_url == "https://api.mock.test"
        assert client.devices.stats().total_devices == 3
        with Client.from_settings(client.settings, transport=httpx.MockTransport(cloud)) as other:
            assert other.devices.stats().total_devices == 3
    monkeypatch.delenv("BELIMO_USERNAME")
    with Client.from_profile("demo") as demo:
        assert demo.settings.username == "__UserPlaceHolder__"


def test_timeline_iterates_pages() -> None:
    cloud = MockCloud()
    events = [
        {
            "timestamp": f"2025-01-{d:02d}T00:00:00.000Z",
            "type": "METADATA_CHANGE",
            "details": {"values": {"metadata.1004": str(d)}},
        }
        for d in range(28, 0, -1)
    ]

    def timeline(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return as_json(
            {
                "data": events[offset : offset + limit],
                "paging": {"total": len(events), "offset": offset, "limit": limit},
            }
        )

    cloud.route("/devices/d1/timeline", timeline)
    with cloud.client() as client:
        got = list(
            client.devices.timeline(
                "d1", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", page_size=10
            )
        )
    assert len(got) == 28 and got[0].timestamp > got[-1].timestamp
    assert cloud.api_requests()[0].url.params["from"] == "2025-01-01T00:00:00Z"


def test_timeseries_many_devices_shares_one_pool() -> None:
    cloud = MockCloud()
    for device in ("d1", "d2"):
        cloud.route(f"/devices/{device}/data/history/timeseries", timeseries_handler())
    with cloud.client(max_workers=3) as client:
        frame = client.history.timeseries_many(["d2", "d1", "d2"], DPS[:2], *YEAR)
    assert len(cloud.api_requests()) == 8  # 2 devices x 4 windows, the repeat ignored
    assert len(frame) == 2 * 2 * 35_040
    assert frame["device_id"].tolist() == sorted(frame["device_id"])
    assert not frame.duplicated(["device_id", "datapoint_id", "timestamp"]).any()


def test_raw_from_a_server_without_paging_that_ignores_the_offset() -> None:
    cloud = MockCloud()
    page = [{"timestamp": f"2025-01-01T00:{m:02d}:00Z", "value": "OK"} for m in range(20)]
    cloud.route("/devices/d1/data/history/datapoints/x.1", lambda r: as_json({"data": page}))
    with cloud.client() as client:
        frame = client.history.raw("d1", "x.1", page_size=20)
    assert len(frame) == 20 and frame["value"].tolist() == ["OK"] * 20
    assert len(cloud.api_requests()) == 2


def test_device_list_parameters() -> None:
    cloud = MockCloud()
    cloud.route("/devices", lambda r: as_json({"data": [], "paging": {"total": 0}}))
    with cloud.client() as client:
        assert (
            list(
                client.devices.list(
                    state="registered",
                    search="Heizung",
                    owner="me",
                    sort_by="display_name",
                    sort_direction="desc",
                )
            )
            == []
        )
        with pytest.raises(DataError):
            list(client.devices.list(state="sleeping"))
        with pytest.raises(DataError):
            list(client.devices.list(sort_direction="up"))
    params = cloud.api_requests("/devices")[0].url.params
    assert dict(params) == {
        "state": "REGISTERED",
        "search": "Heizung",
        "owner": "me",
        "sortBy": "displayName",
        "sortDirection": "DESC",
        "limit": "2000",
        "offset": "0",
    }


def test_windows_are_fetched_concurrently_but_bounded() -> None:
    cloud = MockCloud()
    inner = timeseries_handler()
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    two_in_flight = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            if state["now"] >= 2:
                two_in_flight.set()
        two_in_flight.wait(timeout=5)  # the first request waits for a second one to start
        try:
            return inner(request)
        finally:
            with lock:
                state["now"] -= 1

    cloud.route("/devices/d1/data/history/timeseries", handler)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with cloud.client(max_workers=2) as client:
        frame = client.history.timeseries("d1", "a.1", start, start + timedelta(days=800), "15m")
    assert len(cloud.api_requests()) == 8  # 76,800 buckets
    assert state["peak"] == 2  # concurrent, never more than max_workers
    assert not frame.duplicated(["timestamp"]).any() and len(frame) == 76_800
