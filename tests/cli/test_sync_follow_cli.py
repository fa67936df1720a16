"""`belimo sync --follow` as users run it: killed with SIGKILL, restarted, equal to a fresh sync."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from belimo_cloud.store import Store
from tests.cli.conftest import Invoke, demo_env, one_line
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.slow  # seconds of sped-up fleet time

VALVE = "Heizung EG"
START = (FIXED_NOW - timedelta(hours=6)).isoformat()


def stored(path: Path) -> pd.DataFrame:
    with Store.open(path, read_only=True) as store:
        frame = store.read()
    columns = ["device_id", "datapoint_id", "resolution", "aggregation", "timestamp", "value"]
    return frame[columns].sort_values(columns[:5]).reset_index(drop=True)


def follow_args(store: Path, duration: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "belimo_cloud.cli",
        "sync",
        "--search",
        VALVE,
        "--datapoints",
        "heating_energy,power",
        "--from",
        START,
        "--store",
        str(store),
        "--follow",
        "--duration",
        duration,
    ]


def test_follow_killed_and_restarted_equals_a_fresh_sync(
    make_emulator: Callable[..., str], tmp_path: Path
) -> None:
    cloud = make_emulator(seed=0, speed=600.0, rate_limit=0, heartbeat=0.5)
    env = {**os.environ, **demo_env(cloud)}
    store = tmp_path / "follow.duckdb"
    killed = subprocess.Popen(
        follow_args(store, "60s"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not store.exists():
            time.sleep(0.1)
        time.sleep(4.0)  # following by now: syncs on events
        assert killed.poll() is None, killed.stderr.read() if killed.stderr else ""
        os.kill(killed.pid, signal.SIGKILL)
    finally:
        killed.wait(30)
    assert killed.returncode == -signal.SIGKILL

    restarted = subprocess.run(
        follow_args(store, "4s"), env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert restarted.returncode == 0, restarted.stderr
    assert "followed" in restarted.stderr
    followed = stored(store)
    upto = followed["timestamp"].max()

    fresh = tmp_path / "fresh.duckdb"
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "belimo_cloud.cli",
            "sync",
            "--search",
            VALVE,
            "--datapoints",
            "heating_energy,power",
            "--from",
            START,
            "--to",
            (upto + pd.Timedelta(minutes=15)).isoformat(),
            "--store",
            str(fresh),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    expected = stored(fresh)
    expected = expected[expected["timestamp"] <= upto].reset_index(drop=True)
    pd.testing.assert_frame_equal(followed, expected)


def test_follow_refuses_an_end_and_duration_alone(
    invoke: Invoke, emulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in demo_env(emulator_url).items():
        monkeypatch.setenv(name, value)
    with_end = invoke("sync", "--follow", "--to", "2018-01-02", "--from", "2018-01-01")
    assert with_end.exit_code == 1
    assert "--follow" in one_line(with_end.stderr)
    alone = invoke("sync", "--duration", "5s", "--from", "2018-01-01", "--to", "2018-01-02")
    assert alone.exit_code == 1
    assert "--follow" in one_line(alone.stderr)
