"""Store size and write speed on synthetic data: schema 1 (primary key) against schema 2.

Synthetic counters and temperatures (``--devices`` x 4 datapoints x ``--days`` at 15 min) are
written a window at a time, the way a sync writes them: schema 2 through ``Store.write_chunk``
(replace the window in one transaction, rows in series/time order), schema 1 through its own
statement (``INSERT OR REPLACE`` into points keyed by (series_id, timestamp)). Each schema runs
in its own subprocess so that each peak RSS is its own; everything lives in a temporary
directory. Prints bytes per point, points/s and peak RSS for both; ``--json`` one object.

    .venv/bin/python benchmarks/store_size.py [--devices 36] [--days 730] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from belimo_cloud.store import Store

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
WINDOW = 2880  # buckets per request (30 days at 15 min), as the client chunks a sync
DATAPOINTS = ["heating_energy", "cooling_energy", "power", "supply_temperature"]

# Schema 1 as belimo-cloud wrote it (only what the points need).
SCHEMA_V1 = """
CREATE TABLE series (series_id INTEGER PRIMARY KEY, device_id VARCHAR, datapoint_id VARCHAR,
                     UNIQUE (device_id, datapoint_id));
CREATE TABLE points (series_id INTEGER NOT NULL, timestamp TIMESTAMPTZ NOT NULL, value DOUBLE,
                     PRIMARY KEY (series_id, timestamp));
"""


def windows(devices: int, days: int, seed: int = 0) -> Iterator[tuple[str, datetime, pd.DataFrame]]:
    """(device, window start, long frame) in sync order: every device's window, then the next."""
    rng = np.random.default_rng(seed)
    buckets = days * 96
    state = {d: rng.uniform(1e6, 1e9, size=2) for d in range(devices)}
    for lo in range(0, buckets, WINDOW):
        n = min(WINDOW, buckets - lo)
        stamps = pd.date_range(T0 + lo * STEP, periods=n, freq="15min", tz="UTC")
        for d in range(devices):
            # Counters rise by whole kJ, sensors read with 0.01 resolution: like real devices.
            rises = np.round(rng.gamma(1.0, 500.0, size=(2, n)))
            counters = state[d][:, None] + np.cumsum(rises, axis=1)
            state[d] = counters[:, -1]
            power = np.round(rng.uniform(0, 20_000, size=n), 1)
            temp = np.round(45 + 10 * np.sin(np.arange(lo, lo + n) / 96 * 2 * np.pi), 2)
            values = [counters[0], counters[1], power, temp]
            frame = pd.DataFrame(
                {
                    "datapoint_id": np.repeat(DATAPOINTS, n),
                    "timestamp": np.tile(stamps, len(DATAPOINTS)),
                    "value": np.concatenate(values),
                }
            )
            frame["timestamp"] = pd.DatetimeIndex(frame["timestamp"]).tz_convert("UTC")
            yield f"device-{d:05d}", stamps[0].to_pydatetime(), frame


def write_v2(path: Path, devices: int, days: int, compact: bool) -> int:
    points = 0
    with Store(path) as store:
        for device, start, frame in windows(devices, days):
            points += store.write_chunk(
                frame,
                device_id=device,
                datapoint_ids=DATAPOINTS,
                resolution="15m",
                aggregation="last",
                start=start,
                end=start + WINDOW * STEP,
            )
        if compact:
            store.compact()
    return points


def write_v1(path: Path, devices: int, days: int) -> int:
    points = 0
    with duckdb.connect(str(path)) as con:
        con.execute(SCHEMA_V1)
        ids = {}
        for d in range(devices):
            for dp in DATAPOINTS:
                ids[(f"device-{d:05d}", dp)] = len(ids) + 1
        con.executemany(
            "INSERT INTO series VALUES (?, ?, ?)", [(i, d, dp) for (d, dp), i in ids.items()]
        )
        for device, _, frame in windows(devices, days):
            chunk = frame.assign(series_id=[ids[(device, dp)] for dp in frame["datapoint_id"]])
            con.register("_chunk", chunk)
            con.execute("BEGIN TRANSACTION")
            con.execute(
                "INSERT OR REPLACE INTO points SELECT series_id, timestamp, value FROM _chunk"
            )
            con.execute("COMMIT")
            con.unregister("_chunk")
            points += len(frame)
    return points


def child(schema: str, devices: int, days: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.duckdb"
        began = time.perf_counter()
        if schema == "v1":
            points = write_v1(path, devices, days)
        else:
            points = write_v2(path, devices, days, compact=schema == "v2-compacted")
        seconds = time.perf_counter() - began
        size = sum(p.stat().st_size for p in Path(tmp).iterdir() if p.is_file())
    return {
        "schema": schema,
        "points": points,
        "seconds": round(seconds, 2),
        "points_per_s": round(points / seconds),
        "bytes_per_point": round(size / points, 2),
        "store_mb": round(size / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def measure(schema: str, devices: int, days: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            schema,
            "--devices",
            str(devices),
            "--days",
            str(days),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=36)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", choices=["v1", "v2", "v2-compacted"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.devices, args.days)))
        return
    runs = {s: measure(s, args.devices, args.days) for s in ("v1", "v2", "v2-compacted")}
    report = {
        "devices": args.devices,
        "datapoints": len(DATAPOINTS),
        "days": args.days,
        "points": runs["v2"]["points"],
        "bytes_per_point": runs["v2"]["bytes_per_point"],
        "points_per_s": runs["v2"]["points_per_s"],
        "peak_rss_mb": runs["v2"]["peak_rss_mb"],
        "compacted_bytes_per_point": runs["v2-compacted"]["bytes_per_point"],
        "v1_bytes_per_point": runs["v1"]["bytes_per_point"],
        "v1_points_per_s": runs["v1"]["points_per_s"],
        "v1_peak_rss_mb": runs["v1"]["peak_rss_mb"],
        "runs": runs,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"points: {report['points']:,} ({args.devices} devices x 4 datapoints x {args.days} d)")
    for name, run in runs.items():
        print(
            f"{name:>13}: {run['bytes_per_point']:6.2f} bytes/point, "
            f"{run['points_per_s'] / 1e3:7.0f} k points/s, peak RSS {run['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
