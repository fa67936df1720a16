"""The dashboard follows its store: a sync beside it shows up, a writer holding it is survived."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from belimo_cloud.store import Store
from belimo_cloud.syncer import sync
from belimo_cloud.web import ServeConfig, StoreData, create_app
from tests.web.demo_store import demo_client

HOLD = """
import sys
from belimo_cloud.store import Store
with Store(sys.argv[1]) as store:
    store.devices()
    print("holding", flush=True)
    sys.stdin.readline()
"""


def _sync_month(url: str, path: Path, month: int) -> None:
    with demo_client(url) as client, Store(path) as store:
        sync(
            client,
            store,
            search="Heizung EG Nord-Ost",
            datapoints=("Heating_E_J", "AbsPower_Fb_W"),
            start=f"2018-{month:02d}-01",
            end=f"2018-{month + 1:02d}-01",
            resolution="1h",
            settled_horizon="1s",
        )


def _wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the dashboard did not follow its store in time")
        time.sleep(0.1)


def test_a_sync_beside_the_dashboard_shows_up(demo_url: str, tmp_path: Path) -> None:
    path = tmp_path / "follow.duckdb"
    _sync_month(demo_url, path, 1)
    data = StoreData(path, recheck=0.0)
    app = create_app(ServeConfig(store=path), data=data)
    with TestClient(app, base_url="http://127.0.0.1:8050") as api:
        before = api.get("/api/status").json()["rows"]
        assert before > 0
        _sync_month(demo_url, path, 2)  # the dashboard holds no lock: the writer gets the file
        _wait_for(lambda: api.get("/api/status").json()["rows"] > before)
        assert api.get("/api/status").json()["problem"] == ""


def test_a_writer_holding_the_store_leaves_the_last_snapshot_served(
    demo_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "held.duckdb"
    _sync_month(demo_url, path, 1)
    data = StoreData(path, recheck=0.0)
    app = create_app(ServeConfig(store=path), data=data)
    with TestClient(app, base_url="http://127.0.0.1:8050") as api:
        rows = api.get("/api/status").json()["rows"]
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "holding"
            path.touch()  # as a sync's write would
            _wait_for(lambda: api.get("/api/status").json()["problem"] != "")
            status = api.get("/api/status").json()
            assert status["rows"] == rows
            assert "cannot be read now" in status["problem"]
            assert api.get("/").status_code == 200
            assert "cannot be read now" in api.get("/").text
        finally:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(timeout=30)
        path.touch()
        _wait_for(lambda: api.get("/api/status").json()["problem"] == "")
