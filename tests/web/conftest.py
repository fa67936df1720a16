"""Fixtures of the dashboard tests: a year of the demo fleet in a store, the app, a browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from belimo_cloud.emulator import EmulatorOptions, running_emulator
from belimo_cloud.web import ServeConfig, StoreData, create_app
from tests.conftest import FIXED_NOW
from tests.web.demo_store import build_store
from tests.web.server import serving

CHROMIUM_HINT = (
    "as root: apt-get update && apt-get install -y chromium (make test does it when run as "
    "root), then pip install 'belimo-cloud[browser]'"
)


def chromium_path() -> str | None:
    """The system Chromium (Debian's package), or the one named by CHROMIUM_PATH."""
    named = os.environ.get("CHROMIUM_PATH")
    if named:
        return named if Path(named).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def demo_url() -> Iterator[str]:
    """The demo cloud, frozen at the suite's fixed time."""
    with running_emulator(EmulatorOptions(seed=0, rate_limit=0, now=FIXED_NOW)) as url:
        yield url


@pytest.fixture(scope="session")
def store_path(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2018 of every valve hourly, and Heizung EG Nord-Ost at 15 minutes (4 datapoints)."""
    return build_store(demo_url, tmp_path_factory.mktemp("dashboard") / "demo.duckdb")


@pytest.fixture(scope="session")
def store_data(store_path: Path) -> StoreData:
    """The store's snapshot, loaded once for the whole session."""
    pytest.importorskip("plotly", reason="the dashboard needs Plotly: pip install '.[web]'")
    data = StoreData(store_path)
    data.snapshot()
    return data


@pytest.fixture(scope="session")
def api(store_path: Path, store_data: StoreData) -> Iterator[TestClient]:
    """The dashboard app over the store, called in process."""
    app = create_app(ServeConfig(store=store_path), data=store_data)
    with TestClient(app, base_url="http://127.0.0.1:8050") as client:
        yield client


@pytest.fixture(scope="session")
def dashboard(store_path: Path, store_data: StoreData) -> Iterator[str]:
    """The dashboard on a real loopback port (no live feed)."""
    with serving(create_app(ServeConfig(store=store_path), data=store_data)) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from the system, driven by Playwright; skips when either is missing."""
    path = chromium_path()
    if path is None:
        pytest.skip(f"no Chromium for the browser tests; {CHROMIUM_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"Playwright is not installed; {CHROMIUM_HINT}")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def device_ids(api: TestClient) -> dict[str, str]:
    """Device ids by display name."""
    return {row["name"]: row["device_id"] for row in api.get("/api/devices").json()}


FINE_DEVICE = "Energieventil Heizung EG Nord-Ost"
