"""The client against the emulator over loopback: paging, state, profiles, history."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from belimo_cloud.client import Client, Device, catalogue_frame, devices_frame
from belimo_cloud.client.frames import CATALOGUE_COLUMNS, DEVICE_COLUMNS
from belimo_cloud.errors import DataError, NotFound
from tests.conftest import DEMO, FIXED_NOW

SECOND_TENANT = {"username": "facility@example.org", "password": "Second-Tenant-Password-1"}
YEAR_END = pd.Timestamp("2026-01-01T00:00:00Z")
YEAR_START = YEAR_END - pd.Timedelta(days=365)


class CountingTransport(httpx.BaseTransport):
    """The real network transport, recording every request's path and status."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.seen: list[tuple[str, str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        with self._lock:
            self.seen.append((request.method, request.url.path, response.status_code))
        return response

    def count(self, suffix: str) -> int:
        return sum(1 for _, path, _ in self.seen if path.endswith(suffix))

    def close(self) -> None:
        self._inner.close()


def _client(url: str, transport: httpx.BaseTransport | None = None, **creds: Any) -> Client:
    values = {**DEMO, **creds}
    return Client(
        api_url=url,
        token_url=url + "/oauth/token",
        transport=transport,
        cache_tokens=False,
        **values,
    )


@pytest.fixture
def counting() -> CountingTransport:
    return CountingTransport()


@pytest.fixture
def client(emulator_url: str, counting: CountingTransport) -> Iterator[Client]:
    with _client(emulator_url, counting) as c:
        yield c


@pytest.fixture(scope="module")
def fleet(emulator_url: str) -> list[Device]:
    with _client(emulator_url) as c:
        return list(c.devices.list())


def _valve(fleet: list[Device]) -> Device:
    return next(
        d for d in fleet if d.dataprofile_id == "energyvalve3/1.2" and d.health.state == "OK"
    )


def test_device_list_walks_two_pages_without_duplicates(
    client: Client, counting: CountingTransport
) -> None:
    devices = list(client.devices.list(page_size=20))
    ids = [d.id for d in devices]
    total = client.devices.stats().total_devices
    assert 20 < total <= 40  # two pages of 20
    assert len(ids) == len(set(ids)) == total
    assert counting.count("/api/v3/devices") == 2
    assert {d.id for d in client.devices.list()} == set(ids)  # one page of 2000


def test_device_list_filters(client: Client, fleet: list[Device]) -> None:
    heating = list(client.devices.list(search="heizung"))
    assert len(heating) >= 5
    assert all(
        "heizung" in (d.display_name or "").lower() or "heizung" in (d.serial_number or "").lower()
        for d in heating
    )
    names = [
        d.display_name for d in client.devices.list(sort_by="displayName", sort_direction="DESC")
    ]
    assert len(names) == len(fleet)


def test_get_and_data_at(client: Client, fleet: list[Device]) -> None:
    valve = _valve(fleet)
    device = client.devices.get(valve.id)
    assert device.id == valve.id and device.display_name == valve.display_name
    assert device.state is not None and device.state.timestamp is not None
    at = FIXED_NOW - timedelta(days=30)
    data = client.devices.data(valve.id, at=at)
    assert data.timestamp is not None and data.timestamp <= at
    assert isinstance(data.get("evcloud.210"), float)
    now = client.devices.data(valve.id)
    assert now.timestamp is not None and now.timestamp > data.timestamp
    assert now["evcloud.210"] >= data["evcloud.210"]  # a lifetime counter
    events = list(client.devices.timeline(valve.id))
    assert events and all(a.timestamp >= b.timestamp for a, b in itertools.pairwise(events))
    paged = list(client.devices.timeline(valve.id, page_size=2))
    assert paged == events  # newest first, every page


def test_profile_find_energy(client: Client, fleet: list[Device]) -> None:
    valve = _valve(fleet)
    profile = client.dataprofiles.for_device(valve)
    assert profile is not None and profile.key == "energyvalve3/1.2"
    found = {dp.id for dp in profile.find("Energy")}
    assert found == {"evcloud.200", "evcloud.210"}
    assert profile.get("evcloud.210").unit == "joule"
    assert profile.by_name("Heating_E_J") == profile.get("evcloud.210")
    assert client.dataprofiles.get("/definitions/dataprofiles/energyvalve3/1.2") is profile
    frame = catalogue_frame(profile)
    assert list(frame.columns) == CATALOGUE_COLUMNS and len(frame) == len(profile.datapoints)


def test_devices_frame_from_the_fleet(fleet: list[Device]) -> None:
    frame = devices_frame(fleet)
    assert list(frame.columns) == DEVICE_COLUMNS and len(frame) == len(fleet)
    assert set(frame["health_state"]) <= {"OK", "WARNING", "ERROR", "UNKNOWN"}


@pytest.mark.slow
def test_timeseries_year_four_datapoints_takes_four_requests_and_joins_cleanly(
    client: Client, counting: CountingTransport, fleet: list[Device]
) -> None:
    valve = _valve(fleet)
    dps = ["evcloud.210", "evcloud.200", "evcloud.140", "evcloud.100"]
    frame = client.history.timeseries(valve.id, dps, YEAR_START, YEAR_END, resolution="15m")
    assert counting.count("/data/history/timeseries") == 4
    assert list(frame.columns) == ["device_id", "datapoint_id", "timestamp", "value"]
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["value"].dtype == np.float64
    assert set(frame["datapoint_id"]) == set(dps)
    assert not frame.duplicated(["datapoint_id", "timestamp"]).any()
    stamps = frame["timestamp"]
    assert stamps.min() >= YEAR_START and stamps.max() < YEAR_END
    assert ((stamps - YEAR_START) % pd.Timedelta(minutes=15) == pd.Timedelta(0)).all()
    # Every border between windows: one request straddling it gives exactly the same rows.
    windows = client.history.plan(YEAR_START, YEAR_END, "15m")
    assert len(windows) == 4
    for _, border in windows[:-1]:
        lo, hi = border - timedelta(hours=3), border + timedelta(hours=3)
        single = client.history.fetch_window(valve.id, dps, lo, hi, "15m", "last")
        joined = frame[(frame["timestamp"] >= lo) & (frame["timestamp"] < hi)]
        assert len(single) == len(joined) > 0
        assert single.reset_index(drop=True).equals(joined.reset_index(drop=True))


def test_raw_pages_and_download(
    client: Client, counting: CountingTransport, fleet: list[Device]
) -> None:
    valve = _valve(fleet)
    start = pd.Timestamp("2025-06-01T00:00:00Z")
    end = start + pd.Timedelta(days=1)
    paged = client.history.raw(valve.id, "evcloud.210", start, end, page_size=50)
    assert counting.count("/data/history/datapoints/evcloud.210") >= 2
    whole = client.history.raw(valve.id, "evcloud.210", start, end)
    assert len(paged) > 50 and paged.equals(whole)
    assert paged["timestamp"].is_monotonic_increasing
    assert (paged["timestamp"] >= start).all() and (paged["timestamp"] < end).all()
    wide = client.history.download(valve.id, ["evcloud.210", "evcloud.140"], start, end)
    assert list(wide.columns) == ["timestamp", "evcloud.210", "evcloud.140"]
    assert wide["timestamp"].is_monotonic_increasing
    heat = wide.dropna(subset=["evcloud.210"])
    assert heat["evcloud.210"].to_numpy() == pytest.approx(paged["value"].to_numpy())
    long = client.history.download(valve.id, "evcloud.210", start, end, long=True)
    assert long["value"].to_numpy() == pytest.approx(paged["value"].to_numpy())
    link = client.history.download_link(valve.id, "evcloud.210", start, end)
    assert link.download_url.startswith(client.settings.api_url)
    csv = httpx.get(link.download_url)  # the link itself is the credential
    assert csv.status_code == 200 and csv.text.startswith("timestamp;evcloud.210")


def test_another_tenants_device_is_not_found(emulator_url: str, fleet: list[Device]) -> None:
    with _client(emulator_url, **SECOND_TENANT) as other:
        own = list(other.devices.list())
        assert len(own) == 3
        with pytest.raises(NotFound):
            other.devices.get(fleet[0].id)
        with pytest.raises(NotFound):
            other.history.timeseries(
                fleet[0].id, "evcloud.210", YEAR_START, YEAR_START + pd.Timedelta(days=1)
            )


def test_chunked_windows_respect_the_servers_rate_limit(
    make_emulator: Callable[..., str], fleet: list[Device]
) -> None:
    url = make_emulator(seed=0, rate_limit=2.0, rate_burst=2)
    counting = CountingTransport()
    with _client(url, counting, rate_limit=2.0, max_workers=4) as client:
        valve = _valve(fleet)
        frame = client.history.timeseries(valve.id, "evcloud.210", YEAR_START, YEAR_END, "15m")
    statuses = [status for _, path, status in counting.seen if path.endswith("/timeseries")]
    assert statuses == [200, 200, 200, 200]  # four windows, not one 429
    assert frame["datapoint_id"].nunique() == 1 and len(frame) > 30_000


def test_semantic_names_in_place_of_ids(client: Client, fleet: list[Device]) -> None:
    valve = _valve(fleet)
    day = (YEAR_START, YEAR_START + pd.Timedelta(days=1))
    frame = client.history.timeseries(valve, ["heating_energy", "Cooling_E_J"], *day, "1h")
    assert set(frame["datapoint_id"]) == {"evcloud.210", "evcloud.200"}
    raw = client.history.raw(valve, "heating_energy", *day)
    assert set(raw["datapoint_id"]) == {"evcloud.210"}
    gateway = next(d for d in fleet if d.dataprofile_id != "energyvalve3/1.2")
    with pytest.raises(DataError):
        client.history.timeseries(gateway, "heating_energy", *day, "1h")
