"""A store with devices but no samples yet (a sync just begun): every page still works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from belimo_cloud.store import Store
from belimo_cloud.web import ServeConfig, create_app
from tests.web.browser import open_page, wait_drawn
from tests.web.server import serving


@pytest.fixture(scope="module")
def empty_store(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with Store.open(store_path, read_only=True) as full:
        devices, catalogue = full.devices(), full.catalogue()
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    with Store(path) as store:
        store.save_devices(devices.drop(columns=["fetched_at"]))
        store.save_catalogue(catalogue)
    return path


@pytest.fixture(scope="module")
def empty_api(empty_store: Path) -> Iterator[TestClient]:
    with TestClient(
        create_app(ServeConfig(store=empty_store)), base_url="http://127.0.0.1:8050"
    ) as api:
        yield api


def test_the_endpoints_answer_empty(empty_api: TestClient) -> None:
    rows = empty_api.get("/api/devices").json()
    assert rows
    device = rows[0]["device_id"]
    assert empty_api.get("/api/fleet/energy").json()["directions"] == {}
    series = empty_api.get(f"/api/devices/{device}/series").json()["series"]
    assert all(s["points"] == 0 for s in series.values())
    assert empty_api.get(f"/api/devices/{device}/scatter").json()["points"] == 0
    assert empty_api.get(f"/api/devices/{device}/live").json()["values"] == []
    for path in ("/", f"/devices/{device}", f"/compare?ids={device}"):
        assert empty_api.get(path).status_code == 200


@pytest.mark.slow
def test_the_pages_say_what_is_missing(
    browser: Any, empty_store: Path, empty_api: TestClient
) -> None:
    device = empty_api.get("/api/devices").json()[0]["device_id"]
    with serving(create_app(ServeConfig(store=empty_store))) as base:
        with open_page(browser, base + "/") as page:
            wait_drawn(page, "connectivity", "energy-heating")
            assert "No heating energy" in page.inner_text("#chart-energy-heating")
        with open_page(browser, f"{base}/devices/{device}") as page:
            wait_drawn(page, "energy", "power", "timeline", "scatter")
            assert "Not in the store" in page.inner_text("#chart-power")
