"""A sync survives SIGKILL and emulator faults: the store ends equal to what the API serves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from belimo_cloud.client import Client
from belimo_cloud.store import Store
from belimo_cloud.syncer import sync

from .conftest import direct, make_client, stored

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2024, 10, 1, tzinfo=UTC)  # 26,304 buckets: 3 windows per device
DPS = ["heating_energy", "power"]
DP_IDS = ["evcloud.140", "evcloud.210"]

CHILD = """
import sys
from belimo_cloud.client import Client
from belimo_cloud.syncer import NullProgress, sync

url, path, devices, start, end = sys.argv[1:6]


class Lines(NullProgress):
    def advance(self, *, device_id, points, device_done):
        print("committed", flush=True)


client = Client(
    "__ClientIDPlaceHolder__", "__ClientSecretPlaceHolder__",
    "__UserPlaceHolder__", "__PasswordPlaceHolder__",
    api_url=url, token_url=url + "/oauth/token", rate_limit=0,
)
report = sync(client, path, device_ids=devices.split(","), datapoints=["heating_energy", "power"],
              start=start, end=end, max_workers=1, progress=Lines())
print("done", report.requests, flush=True)
"""


@pytest.mark.slow
def test_sigkill_mid_sync_then_rerun_loses_and_duplicates_nothing(
    emulator_url: str, valves: list[str], tmp_path: Path, client: Client
) -> None:
    devices = valves[:3]
    path = tmp_path / "s.duckdb"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            emulator_url,
            str(path),
            ",".join(devices),
            START.isoformat(),
            END.isoformat(),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines = [child.stdout.readline().strip() for _ in range(2)]
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert lines == ["committed", "committed"]
    assert child.returncode == -signal.SIGKILL

    with Store(path) as store:
        partial = stored(store)
        coverage = store.coverage("15m", "last")
        # Coverage never claims more than what was stored: every covered bucket has its rows.
        for (device, dp), intervals in coverage.items():
            rows = partial[(partial["device_id"] == device) & (partial["datapoint_id"] == dp)]
            for lo, hi in intervals:
                inside = rows[(rows["timestamp"] >= lo) & (rows["timestamp"] < hi)]
                assert len(inside) > 0
        resumed = sync(client, store, device_ids=devices, datapoints=DPS, start=START, end=END)
        got = stored(store)
    assert 0 < len(partial) < len(got)
    assert resumed.planned_requests < 3 * 3
    reference = direct(client, devices, DP_IDS, START, END)
    assert not got.duplicated(["device_id", "datapoint_id", "timestamp"]).any()
    pd.testing.assert_frame_equal(got, reference)


# Each commit lingers half a second, so that Ctrl-C arrives mid-sync even on a loaded machine
# (without it a fast child could finish all 9 windows before the signal lands).
INTERRUPTIBLE = (
    CHILD.replace(
        'print("committed", flush=True)',
        'print("committed", flush=True)\n        __import__("time").sleep(0.5)',
    )
    .replace(
        "report = sync(",
        "from belimo_cloud.syncer import SyncInterrupted\ntry:\n    report = sync(",
    )
    .replace(
        'print("done", report.requests, flush=True)',
        "except SyncInterrupted as stop:\n"
        '    print("interrupted", stop.report.requests, flush=True)\n'
        "    sys.exit(130)\n"
        'print("done", report.requests, flush=True)',
    )
)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(
    emulator_url: str, valves: list[str], tmp_path: Path, client: Client
) -> None:
    devices = valves[3:6]
    path = tmp_path / "s.duckdb"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            INTERRUPTIBLE,
            emulator_url,
            str(path),
            ",".join(devices),
            START.isoformat(),
            END.isoformat(),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "committed"
    child.send_signal(signal.SIGINT)
    rest = child.stdout.read().split()
    assert child.wait(timeout=60) == 130
    assert "interrupted" in rest
    committed = 1 + rest.count("committed")
    assert int(rest[rest.index("interrupted") + 1]) == committed < 9

    with Store(path) as store:
        resumed = sync(client, store, device_ids=devices, datapoints=DPS, start=START, end=END)
        got = stored(store)
    # A window committed just as Ctrl-C arrived may be uncounted, never refetched.
    assert resumed.planned_requests <= 9 - committed
    pd.testing.assert_frame_equal(got, direct(client, devices, DP_IDS, START, END))


@pytest.mark.slow
def test_faults_and_rate_limit_end_in_the_same_store(
    make_emulator: Callable[..., str], valves: list[str], tmp_path: Path, client: Client
) -> None:
    devices = valves[:4]
    url = make_emulator(error_rate=0.1, drop_rate=0.05, token_ttl=3, rate_limit=2.0)
    # The client asks for more than the server's 2 requests/s, so 429s happen too; the run
    # lasts longer than the 3 s token lifetime, so tokens expire under it.
    with make_client(url, rate_limit=5) as faulty, Store(tmp_path / "faulty.duckdb") as store:
        report = sync(faulty, store, device_ids=devices, datapoints=DPS, start=START, end=END)
        got = stored(store)
    with Store(tmp_path / "clean.duckdb") as store:
        sync(client, store, device_ids=devices, datapoints=DPS, start=START, end=END)
        clean = stored(store)
    injected = httpx.get(url + "/_emulator/faults").json()["counters"]
    assert injected["errors"] + injected["drops"] > 0
    assert injected["rateLimited"] > 0
    assert report.requests == report.planned_requests == 4 * 3
    assert report.seconds > 3
    pd.testing.assert_frame_equal(got, clean)
