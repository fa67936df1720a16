"""Live values on the device page while the demo cloud runs sped up."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from belimo_cloud.client import Client
from belimo_cloud.web import LiveFeed, ServeConfig, StoreData, create_app
from tests.web.browser import open_page, wait_until
from tests.web.conftest import FINE_DEVICE
from tests.web.demo_store import demo_client
from tests.web.server import serving

pytestmark = pytest.mark.slow


def test_a_live_value_updates_on_the_device_page(
    browser: Any,
    make_emulator: Callable[..., str],
    store_path: Path,
    store_data: StoreData,
    device_ids: dict[str, str],
) -> None:
    url = make_emulator(seed=0, speed=600.0, rate_limit=0, heartbeat=0.5)

    def connect() -> Client:
        client = demo_client(url)
        client.login()
        return client

    feed = LiveFeed(connect)
    app = create_app(ServeConfig(store=store_path), live=feed, data=store_data)
    device = device_ids[FINE_DEVICE]
    with serving(app) as base, open_page(browser, f"{base}/devices/{device}") as page:
        wait_until(page, "document.getElementById('live-source').dataset.source === 'live'")
        first = page.get_attribute("#live-when", "data-timestamp")
        assert first
        assert first > "2026"  # the live clock, not the store's 2018
        wait_until(
            page,
            f"document.getElementById('live-when').dataset.timestamp > {first!r}",
            timeout=60,
        )
        units = page.locator("#live-table tbody tr").evaluate_all(
            "rows => Object.fromEntries(rows.map(r => [r.dataset.name, r.cells[2].textContent]))"
        )
        assert units["AbsPower_Fb_W"] == "kW"
        assert units["T1_remote_K"] == "°C"
        assert "live" in page.inner_text("#live-status")


def test_an_unreachable_cloud_leaves_the_store_pages_working(
    store_path: Path, store_data: StoreData, device_ids: dict[str, str]
) -> None:
    from fastapi.testclient import TestClient

    def connect() -> Client:
        client = demo_client("http://127.0.0.1:9")
        client.login()
        return client

    feed = LiveFeed(connect)
    app = create_app(ServeConfig(store=store_path), live=feed, data=store_data)
    with TestClient(app, base_url="http://127.0.0.1:8050") as api:
        deadline = time.monotonic() + 60
        while feed.status == "connecting" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert feed.status.startswith("unavailable:")
        body = api.get(f"/api/devices/{device_ids[FINE_DEVICE]}/live").json()
        assert body["source"] == "store"
        assert body["status"].startswith("unavailable:")
        assert body["values"]
