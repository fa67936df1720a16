"""Fixtures for sync tests: a client of the session emulator and a few valves to sync."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pandas as pd
import pytest

from belimo_cloud.client import Client
from belimo_cloud.store import Store
from tests.conftest import DEMO


def make_client(url: str, **options: object) -> Client:
    """A demo-tenant client of the emulator at ``url``."""
    options.setdefault("rate_limit", 0)
    return Client(**DEMO, api_url=url, token_url=url + "/oauth/token", **options)  # type: ignore[arg-type]


@pytest.fixture
def client(emulator_url: str) -> Iterator[Client]:
    with make_client(emulator_url) as c:
        yield c


@pytest.fixture(scope="session")
def valves(emulator_url: str) -> list[str]:
    """Ids of the demo fleet's Energy Valves that have data, by display name.

    The fleet also holds a valve that never connected (lastSeen null, no history), as real
    accounts do; tests that want data leave it out, and say so when they test it.
    """
    with make_client(emulator_url) as c:
        devices = sorted(c.devices.list(), key=lambda d: d.display_name or d.id)
        return [
            d.id
            for d in devices
            if (d.dataprofile_id or "").startswith("energyvalve3")
            and d.health is not None
            and d.health.last_seen is not None
        ]


def direct(
    client: Client, device_ids: list[str], dps: list[str], start: datetime, end: datetime
) -> pd.DataFrame:
    """What the API serves for these series, fetched without the store (long, sorted)."""
    frames = [
        client.history.timeseries(d, dps, start, end, resolution="15m", aggregation="last")
        for d in device_ids
    ]
    return canonical(pd.concat(frames, ignore_index=True))


def stored(store: Store) -> pd.DataFrame:
    """The store's samples in the same canonical shape."""
    return canonical(store.read())


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["device_id", "datapoint_id", "timestamp", "value"]].copy()
    out["device_id"] = out["device_id"].astype(str)
    out["datapoint_id"] = out["datapoint_id"].astype(str)
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True).astype("datetime64[us, UTC]")
    out["value"] = out["value"].astype("float64")
    out = out.dropna(subset=["value"])
    return out.sort_values(["device_id", "datapoint_id", "timestamp"]).reset_index(drop=True)
