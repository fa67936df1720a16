"""Benchmark: sync the demo fleet (36 devices x 4 datapoints x 2 years at 15 min) into a store.

The emulator (``--rate-limit 0``) runs in a child process, so the peak RSS measured here is
the sync's own: client, thread pool, DuckDB. Prints wall time, requests against the minimum,
points/s into the store, peak RSS, store size (and bytes per point) and the time of a no-op
re-sync (which only re-reads the settled horizon). ``--json`` prints one JSON object instead.
Other processes on the machine change the speed, not the memory: take the best of a few runs.

    .venv/bin/python benchmarks/sync.py [--years 2] [--datapoints a,b,c,d] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from belimo_cloud.client import Client
from belimo_cloud.client.chunking import MAX_BUCKETS, bucket_count
from belimo_cloud.config import DEFAULT_MAX_WORKERS, demo_settings
from belimo_cloud.store import Store
from belimo_cloud.syncer import sync

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the emulator's frozen clock
DATAPOINTS = "heating_energy,cooling_energy,power,supply_temperature"
EMULATOR = """
import sys, time
from datetime import datetime
from belimo_cloud.emulator import EmulatorOptions, running_emulator
now = datetime.fromisoformat(sys.argv[1])
with running_emulator(EmulatorOptions(seed=0, now=now, rate_limit=0)) as url:
    print(url, flush=True)
    sys.stdin.read()
"""


def peak_rss_mb() -> float:
    """Peak resident set size of this process [MB] (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(years: float, datapoints: str, workers: int | None) -> dict[str, Any]:
    emulator = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, NOW.isoformat()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().strip()
        start = NOW - timedelta(days=round(365 * years))
        start = start.replace(hour=0, minute=0)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "store.duckdb"
            # Built, not loaded: the user's config and token cache stay untouched.
            settings = demo_settings(url, max_workers=workers or DEFAULT_MAX_WORKERS)
            client = Client(settings=settings)
            with client, Store(path) as store:
                began = time.perf_counter()
                report = sync(client, store, datapoints=datapoints, start=start, now=lambda: NOW)
                wall = time.perf_counter() - began
                rss_after_sync = peak_rss_mb()
                began = time.perf_counter()
                noop = sync(client, store, datapoints=datapoints, start=start, now=lambda: NOW)
                noop_s = time.perf_counter() - began
            per_device = -(-bucket_count(start, NOW, "15m") // MAX_BUCKETS)
            store_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
    finally:
        if emulator.stdin is not None:
            emulator.stdin.close()
        emulator.wait(timeout=30)
    return {
        "devices": report.devices,
        "skipped_devices": len(report.skipped),
        "series": report.series,
        "datapoints": datapoints.split(","),
        "years": years,
        "wall_s": round(wall, 2),
        "requests": report.requests,
        "min_requests": per_device * report.devices,
        "requests_sent": report.requests_sent,
        "points": report.points,
        "points_per_s": round(report.points / wall),
        "peak_rss_mb": round(rss_after_sync, 1),
        "store_mb": round(store_mb, 1),
        "store_bytes_per_point": round(store_mb * 1e6 / report.points, 2)
        if report.points
        else None,
        "noop_resync_s": round(noop_s, 2),
        "noop_requests": noop.requests,
        "noop_refresh_requests": noop.refresh_requests,
        "noop_points": noop.points,
        "max_workers": client.settings.max_workers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--datapoints", default=DATAPOINTS)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = run(args.years, args.datapoints, args.workers)
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"sync: {figures['devices']} devices x {len(figures['datapoints'])} datapoints x "
        f"{figures['years']} years at 15 min ({figures['skipped_devices']} devices skipped: "
        "no such datapoints)"
    )
    print(f"  wall time        {figures['wall_s']:.2f} s")
    print(f"  requests         {figures['requests']} (minimum {figures['min_requests']})")
    print(f"  points           {figures['points']:,} ({figures['points_per_s']:,} points/s)")
    print(f"  peak RSS         {figures['peak_rss_mb']:.0f} MB")
    print(
        f"  store size       {figures['store_mb']:.1f} MB "
        f"({figures['store_bytes_per_point']} bytes per point)"
    )
    print(
        f"  no-op re-sync    {figures['noop_resync_s']:.2f} s "
        f"({figures['noop_requests']} settled-horizon requests)"
    )


if __name__ == "__main__":
    main()
