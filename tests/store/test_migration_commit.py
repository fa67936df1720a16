"""A schema-1 store killed after its migration committed, and a migrated store being synced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from belimo_cloud.store import Store

from .helpers import STEP
from .test_migration import fingerprint, make_v1_store, version

# The child opens the store (which migrates it) and pauses after the migration's commit,
# before the checkpoint that writes it into the file: only the write-ahead log holds it.
CHILD = """
import sys, time
from belimo_cloud.store import migrate
def paused(con):
    print("committed", flush=True)
    time.sleep(60)
migrate.release_old_blocks = paused
from belimo_cloud.store import Store
Store(sys.argv[1])
"""


def test_sigkill_after_the_commit_is_completed_from_the_log(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    points = make_v1_store(path, series=30, buckets=2000)
    before = fingerprint(path)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "committed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert Path(f"{path}.wal").exists()  # the migration is in the log, not yet in the file
    assert version(path) == 2  # replayed on open
    assert fingerprint(path) == before
    with Store(path) as store:
        assert len(store.read()) == points
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
    assert "points_v2" not in tables


def test_a_migrated_store_takes_a_sync_and_keeps_the_old_points(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    make_v1_store(path, series=7, buckets=300)
    with Store.open(path, read_only=True) as old:  # read as schema 1, untouched
        before = old.read()
    device, dp = "dev1", "dp1"
    mine = (before["device_id"] == device) & (before["datapoint_id"] == dp)
    first = before.loc[mine, "timestamp"].min()
    # A window over stored samples (replaced) that runs past them (added), written the way a
    # sync writes it: categorical keys, in order; twice, and the second replaces the first.
    stamps = pd.date_range(first + 100 * STEP, periods=400, freq="15min", tz="UTC")
    frame = pd.DataFrame(
        {
            "datapoint_id": pd.Categorical([dp] * len(stamps)),
            "timestamp": stamps,
            "value": np.arange(len(stamps), dtype="float64"),
        }
    )
    end = (stamps[-1] + STEP).to_pydatetime()
    with Store(path) as store:
        for _ in range(2):
            store.write_chunk(
                frame,
                device_id=device,
                datapoint_ids=[dp],
                resolution="15m",
                aggregation="last",
                start=stamps[0].to_pydatetime(),
                end=end,
            )
        after = store.read()
        covered = store.coverage("15m", "last")[(device, dp)]
    assert version(path) == 2
    assert len(after) == len(before) + 200  # 200 of the 400 samples were new
    kept = (after["device_id"] == device) & (after["datapoint_id"] == dp)
    pd.testing.assert_frame_equal(
        after[~kept].reset_index(drop=True), before[~mine].reset_index(drop=True)
    )
    series = after[kept].reset_index(drop=True)
    assert series["timestamp"].is_monotonic_increasing
    old_part = before[mine & (before["timestamp"] < stamps[0])].reset_index(drop=True)
    pd.testing.assert_frame_equal(series.iloc[: len(old_part)], old_part)
    assert series["value"].iloc[len(old_part) :].tolist() == frame["value"].tolist()
    assert covered == [(first.to_pydatetime(), end)]
