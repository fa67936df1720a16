"""A dashboard store synced from the demo cloud: a year of the fleet, one valve at 15 minutes."""

from __future__ import annotations

from pathlib import Path

from belimo_cloud.client import Client
from belimo_cloud.config import DEMO_CREDENTIALS, Settings
from belimo_cloud.store import Store
from belimo_cloud.syncer import sync

YEAR_START = "2018-01-01"
YEAR_END = "2019-01-01"
#: What the dashboard reads: counters (last) and the hydronic quantities (avg).
COUNTERS = ("Heating_E_J", "Cooling_E_J")
AVERAGED = (
    "AbsPower_Fb_W",
    "RelFlow_Fb_Rel2Vmax",
    "AbsFlow_Fb_m3s",
    "T1_remote_K",
    "T2_embeded_K",
    "DeltaT_K",
    "SpDeltaT_applied_K",
)
#: The four datapoints of the year at 15 minutes.
FINE = ("Heating_E_J", "AbsPower_Fb_W", "AbsFlow_Fb_m3s", "DeltaT_K")


def demo_client(url: str) -> Client:
    """A client for the demo tenant that leaves no token in the user's cache."""
    settings = Settings(
        client_id=DEMO_CREDENTIALS["client_id"],
        client_secret=DEMO_CREDENTIALS["client_secret"],
        username=DEMO_CREDENTIALS["username"],
        password=DEMO_CREDENTIALS["password"],
        api_url=url,
        token_url=f"{url}/oauth/token",
        profile="demo",
        rate_limit=0,
        cache_tokens=False,
    )
    return Client.from_settings(settings)


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
