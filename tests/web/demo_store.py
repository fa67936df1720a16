"""A dashboard store synced from the demo cloud: a year of the fleet, one valve at 15 minutes."""

from __future__ import annotations

from pathlib import Path

from belimo_cloud.client import Client
from belimo_cloud.config import demo_settings
from belimo_cloud.store import Store
from belimo_cloud.syncer import sync
from belimo_cloud.web.data import AVERAGED, COUNTERS

YEAR_START = "2018-01-01"
YEAR_END = "2019-01-01"
#: The four datapoints of the year at 15 minutes.
FINE = ("Heating_E_J", "AbsPower_Fb_W", "AbsFlow_Fb_m3s", "DeltaT_K")


def demo_client(url: str) -> Client:
    """A client for the demo tenant that leaves no token in the user's cache."""
    return Client.from_settings(demo_settings(url))


def build_store(url: str, path: Path, *, fine_search: str = "Heizung EG Nord-Ost") -> Path:
    """Sync a year: every valve hourly, and ``fine_search``'s valve at 15 minutes."""
    with demo_client(url) as client, Store(path) as store:
        common = {"start": YEAR_START, "end": YEAR_END, "settled_horizon": "1s"}
        sync(client, store, profile="energyvalve3", datapoints=COUNTERS, resolution="1h", **common)
        sync(
            client,
            store,
            profile="energyvalve3",
            datapoints=AVERAGED,
            resolution="1h",
            aggregation="avg",
            **common,
        )
        sync(client, store, search=fine_search, datapoints=FINE, resolution="15m", **common)
    return path
