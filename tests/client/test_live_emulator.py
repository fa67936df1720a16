"""client.live against the demo cloud: drops and stalls by the control plane lose nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest

from belimo_cloud.client import Client
from belimo_cloud.client.live import DeviceEvent
from tests.client.loopback import collect
from tests.conftest import DEMO

pytestmark = pytest.mark.slow  # seconds of sped-up fleet time per test


@pytest.fixture
def cloud(make_emulator: Callable[..., str]) -> str:
    return make_emulator(seed=0, speed=600.0, rate_limit=0, heartbeat=0.2)


def valves(client: Client, n: int) -> list[str]:
    found = [
        d
        for d in client.devices.list()
        if (d.dataprofile_id or "").startswith("energyvalve") and d.health.state == "OK"
    ]
    found.sort(key=lambda d: d.health.last_seen or datetime.min, reverse=True)
    return [d.id for d in found[:n]]


def assert_matches_history(client: Client, events: list[DeviceEvent], device: str) -> int:
    """The device's events are exactly its raw history between the first and the last."""
    mine = [e for e in events if e.device_id == device]
    stamps = [e.timestamp for e in mine]
    assert stamps and all(s is not None for s in stamps)
    assert len(stamps) == len(set(stamps)), "a sample was delivered twice"
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    first, last = stamps[0], stamps[-1]
    assert first is not None and last is not None
    history = client.history.raw(device, "evcloud.140", first, last + timedelta(seconds=1))
    expected = [t.to_pydatetime() for t in history["timestamp"]]
    assert stamps == expected, "lost samples"
    for event, value in zip(mine, history["value"], strict=True):
        assert event.datapoints["evcloud.140"] == pytest.approx(value)
    return len(stamps)


@pytest.mark.parametrize("abort", [True, False])
def test_a_dropped_stream_loses_and_repeats_nothing(cloud: str, abort: bool) -> None:
    with Client(**DEMO, api_url=cloud, rate_limit=0, cache_tokens=False) as client:
        devices = valves(client, 2)
        sub = client.live.subscribe(devices, ["evcloud.140"], heartbeat_timeout=5)
        try:
            events = collect(sub, 1.0)
            httpx.post(cloud + "/_emulator/streams/drop", json={"abort": abort}).raise_for_status()
            time.sleep(0.5)
            events += collect(sub, 1.5)
        finally:
            sub.close()
        assert sub.stats.reconnects >= 1
        for device in devices:
            assert assert_matches_history(client, events, device) >= 4


def test_a_stalled_stream_is_reopened_and_repaired(cloud: str) -> None:
    with Client(**DEMO, api_url=cloud, rate_limit=0, cache_tokens=False) as client:
        devices = valves(client, 1)
        sub = client.live.subscribe(devices, ["evcloud.140"], heartbeat_timeout=0.8)
        try:
            events = collect(sub, 0.8)
            httpx.post(cloud + "/_emulator/streams/stall", json={"seconds": 2}).raise_for_status()
            events += collect(sub, 3.0)
        finally:
            sub.close()
        assert sub.stats.missed_heartbeats >= 1
        assert any(e.backfilled for e in events)
        assert_matches_history(client, events, devices[0])
