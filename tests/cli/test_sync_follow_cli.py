"""`belimo sync --follow` as users run it: killed with SIGKILL, restarted, equal to a fresh sync."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.conftest import Invoke, demo_env, one_line
from tests.conftest import FIXED_NOW
from tests.followers import kill_while_following, stored

pytestmark = pytest.mark.slow  # seconds of sped-up fleet time

VALVE = "Heizung EG"
START = (FIXED_NOW - timedelta(hours=6)).isoformat()


def sync_args(store: Path, *extra: str) -> list[str]:
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
        *extra,
    ]


def follow_args(store: Path, duration: str) -> list[str]:
    return sync_args(store, "--follow", "--duration", duration)


def test_follow_killed_and_restarted_equals_a_fresh_sync(
    make_emulator: Callable[..., str], tmp_path: Path
) -> None:
    cloud = make_emulator(seed=0, speed=600.0, rate_limit=0, heartbeat=0.5)
    env = {**os.environ, **demo_env(cloud)}
    store = tmp_path / "follow.duckdb"
    kill_while_following(follow_args(store, "60s"), store, env)

    restarted = subprocess.run(
        follow_args(store, "4s"), env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert restarted.returncode == 0, restarted.stderr
    assert "followed" in restarted.stderr
    followed = stored(store)
    upto = followed["timestamp"].max()

    fresh = tmp_path / "fresh.duckdb"
    again = subprocess.run(
        sync_args(fresh, "--to", (upto + pd.Timedelta(minutes=15)).isoformat()),
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
