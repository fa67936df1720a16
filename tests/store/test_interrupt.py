"""Ctrl-C while DuckDB writes: a KeyboardInterrupt, and a store whose coverage matches its rows."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from belimo_cloud.store import Store

WRITER = """
import sys
import numpy as np
import pandas as pd
from belimo_cloud.store import Store

store = Store(sys.argv[1])
t0 = pd.Timestamp("2024-01-01", tz="UTC")
print("ready", flush=True)
try:
    for w in range(10_000):
        stamps = pd.date_range(t0 + pd.Timedelta(minutes=15 * 10_000 * w), periods=10_000,
                               freq="15min", tz="UTC")
        frame = pd.concat([pd.DataFrame({"datapoint_id": dp, "timestamp": stamps,
                                         "value": np.random.rand(10_000)}) for dp in "xyz"])
        store.write_chunk(frame, device_id="d", datapoint_ids=list("xyz"), resolution="15m",
                          aggregation="last", start=stamps[0],
                          end=stamps[-1] + pd.Timedelta("15min"))
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.05, 0.2, 0.35, 0.5, 0.8])
def test_ctrl_c_during_writes(tmp_path: Path, delay: float) -> None:
    path = tmp_path / "s.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=60) == 130
    with Store(path) as store:
        rows = store.read()
        coverage = store.coverage("15m", "last")
    covered = coverage.get(("d", "x"), [])
    assert all(coverage.get(("d", dp), []) == covered for dp in "yz")
    buckets = sum((end - start) // pd.Timedelta("15min") for start, end in covered)
    assert len(rows) == 3 * buckets
