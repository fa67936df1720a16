"""sync --follow: a store kept current from the change-stream equals a fresh sync of its span."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
import pytest

from belimo_cloud.client import Client
from belimo_cloud.syncer import sync
from belimo_cloud.syncer.follow import follow
from tests.conftest import DEMO, FIXED_NOW
from tests.followers import kill_while_following, stored

pytestmark = pytest.mark.slow  # seconds of sped-up fleet time per test

DATAPOINTS = "heating_energy,power"
START = FIXED_NOW - timedelta(hours=6)

FOLLOWER = """
import json, sys
from belimo_cloud.client import Client
from belimo_cloud.syncer.follow import follow
url, store, devices, start, duration = sys.argv[1:6]
with Client(client_id="{client_id}", client_secret="{client_secret}", username="{username}",
            password="{password}", api_url=url, rate_limit=0, cache_tokens=False) as client:
    report = follow(client, store, device_ids=devices.split(","), datapoints="{datapoints}",
                    start=start, duration=float(duration), min_interval=0.3, backfill_every=2)
print(json.dumps({{"synced_until": report.synced_until.isoformat(), "syncs": report.syncs,
                  "events": report.events}}))
""".format(**DEMO, datapoints=DATAPOINTS)


@pytest.fixture
def cloud(make_emulator: Callable[..., str]) -> str:
    return make_emulator(seed=0, speed=600.0, rate_limit=0, heartbeat=0.5)


def client_of(url: str) -> Client:
    return Client(**DEMO, api_url=url, rate_limit=0, cache_tokens=False)


def two_valves(client: Client) -> list[str]:
    found = [
        d
        for d in client.devices.list()
        if (d.dataprofile_id or "").startswith("energyvalve") and d.health.state == "OK"
    ]
    found.sort(key=lambda d: d.health.last_seen or datetime.min, reverse=True)
    return sorted(d.id for d in found[:2])


def fresh_sync(client: Client, path: Path, devices: list[str], upto: datetime) -> pd.DataFrame:
    sync(client, path, device_ids=devices, datapoints=DATAPOINTS, start=START, end=upto)
    return stored(path)


def test_follow_keeps_the_store_equal_to_a_fresh_sync(cloud: str, tmp_path: Path) -> None:
    with client_of(cloud) as client:
        devices = two_valves(client)
        report = follow(
            client,
            tmp_path / "follow.duckdb",
            device_ids=devices,
            datapoints=DATAPOINTS,
            start=START,
            duration=5.0,
            min_interval=0.3,
            backfill_every=2.0,
        )
        assert report.events > 0
        assert report.event_syncs >= 1 and report.syncs >= 3
        assert report.synced_until is not None and report.synced_until > FIXED_NOW
        assert report.fleet_time is not None and report.fleet_time >= report.synced_until
        followed = stored(tmp_path / "follow.duckdb")
        fresh = fresh_sync(client, tmp_path / "fresh.duckdb", devices, report.synced_until)
    assert followed["timestamp"].max() > pd.Timestamp(FIXED_NOW)
    pd.testing.assert_frame_equal(followed, fresh)


def test_follow_killed_and_restarted_equals_a_fresh_sync(cloud: str, tmp_path: Path) -> None:
    with client_of(cloud) as client:
        devices = two_valves(client)
    store = tmp_path / "follow.duckdb"
    args = [sys.executable, "-c", FOLLOWER, cloud, str(store), ",".join(devices), START.isoformat()]
    kill_while_following([*args, "60"], store)
    restarted = subprocess.run(
        [*args, "4"], check=False, capture_output=True, text=True, timeout=120
    )
    assert restarted.returncode == 0, restarted.stderr
    summary = json.loads(restarted.stdout.strip().splitlines()[-1])
    assert summary["events"] > 0
    upto = datetime.fromisoformat(summary["synced_until"])
    followed = stored(store)
    with client_of(cloud) as client:
        fresh = fresh_sync(client, tmp_path / "fresh.duckdb", devices, upto)
    pd.testing.assert_frame_equal(followed, fresh)


def test_a_dropped_stream_is_followed_by_a_backfill_sync(cloud: str, tmp_path: Path) -> None:
    stop = threading.Event()

    def drop_twice() -> None:
        for _ in range(2):
            time.sleep(1.5)
            httpx.post(cloud + "/_emulator/streams/drop", json={}).raise_for_status()

    dropper = threading.Thread(target=drop_twice)
    with client_of(cloud) as client:
        devices = two_valves(client)
        dropper.start()
        report = follow(
            client,
            tmp_path / "follow.duckdb",
            device_ids=devices,
            datapoints=DATAPOINTS,
            start=START,
            duration=4.5,
            min_interval=0.3,
            backfill_every=60.0,
            stop=stop,
        )
        dropper.join()
        assert report.reconnects >= 2 and report.reconnect_syncs >= 2
        assert report.synced_until is not None
        followed = stored(tmp_path / "follow.duckdb")
        fresh = fresh_sync(client, tmp_path / "fresh.duckdb", devices, report.synced_until)
    pd.testing.assert_frame_equal(followed, fresh)
    assert "after reconnects" in report.summary()


def test_follow_stops_when_asked(cloud: str, tmp_path: Path) -> None:
    stop = threading.Event()
    threading.Timer(1.5, stop.set).start()
    with client_of(cloud) as client:
        started = time.monotonic()
        report = follow(
            client,
            tmp_path / "follow.duckdb",
            device_ids=two_valves(client),
            datapoints=DATAPOINTS,
            start=START,
            stop=stop,
        )
    assert time.monotonic() - started < 30
    assert report.syncs >= 1 and not report.interrupted
