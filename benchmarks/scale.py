"""Scale: sync, store, monthly energy, export and Spark for a fleet of ``--valves`` valves.

Heating and cooling energy counters, ``--days`` at 15 minutes (1,000 valves x 1 year: 70 M
points). Each phase runs in its own subprocess, so each peak RSS is that phase's own:

1. sync: the demo cloud (``--rate-limit 0``, in another process) synced into a new store. The
   emulator's fleet size is used when it has such an option; otherwise its fixed demo fleet
   is synced, and the store is topped up to ``--valves`` with synthetic valves written the way
   a sync writes them (``Store.write_chunk``, a 30-day window per device at a time), and
   compacted. ``synced_devices`` and ``synthetic_devices`` say which was measured.
2. energy: monthly energy per valve from the store as ``belimo energy --store`` computes it
   (``belimo_cloud.report.store_energy``: a bounded batch of whole devices at a time).
3. export: the store as zstd Parquet partitioned by datapoint and device.
4. spark: the same monthly energy on a local Spark session from the export
   (``consumption_spark``), compared with the single-machine result (``spark_equal``); skipped
   (null) without Java or pyspark.

Everything lives in a temporary directory; the user's config, token cache and store are
never touched.

    .venv/bin/python benchmarks/scale.py [--valves 1000] [--days 365] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the emulator's frozen clock
DATAPOINTS = "heating_energy,cooling_energy"
TZ = "Europe/Zurich"
COUNTERS = {"Heating_E_J": "heating", "Cooling_E_J": "cooling"}
WINDOW = 2880  # buckets per synthetic write (30 days at 15 min)
EMULATOR = """
import json, sys
from datetime import datetime
from belimo_cloud.emulator import EmulatorOptions, running_emulator
extra = json.loads(sys.argv[2])
options = EmulatorOptions(seed=0, now=datetime.fromisoformat(sys.argv[1]), rate_limit=0, **extra)
with running_emulator(options) as url:
    print(url, flush=True)
    sys.stdin.read()
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fleet_option(valves: int) -> dict[str, int]:
    """The emulator's fleet-size option, when it has one (by any of the usual names)."""
    from belimo_cloud.emulator import EmulatorOptions

    names = {f.name for f in dataclasses.fields(EmulatorOptions)}
    for name in ("fleet_size", "valves", "devices", "fleet"):
        if name in names:
            return {name: valves}
    return {}


def window_start(days: int) -> datetime:
    return (NOW - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)


# -- phases (each in a child process) -------------------------------------------------------


def phase_sync(store: Path, valves: int, days: int) -> dict[str, Any]:
    from belimo_cloud.client import Client
    from belimo_cloud.config import demo_settings
    from belimo_cloud.store import Store
    from belimo_cloud.syncer import sync

    extra = fleet_option(valves)
    emulator = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, NOW.isoformat(), json.dumps(extra)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().strip()
        settings = demo_settings(url, rate_limit=0)
        with Client(settings=settings) as client, Store(store) as target:
            began = time.perf_counter()
            report = sync(
                client, target, datapoints=DATAPOINTS, start=window_start(days), now=lambda: NOW
            )
            seconds = time.perf_counter() - began
    finally:
        if emulator.stdin is not None:
            emulator.stdin.close()
        emulator.wait(timeout=60)
    return {
        "sync_seconds": round(seconds, 2),
        "sync_peak_rss_mb": round(peak_rss_mb(), 1),
        "synced_points": report.points,
        "synced_devices": report.devices - len(report.skipped),
        "sync_points_per_s": round(report.points / seconds) if seconds else None,
        "fleet_option": extra or None,
    }


def phase_fill(store: Path, valves: int, days: int) -> dict[str, Any]:
    """Top the store up to ``valves`` devices with synthetic counters, then compact it."""
    import numpy as np
    import pandas as pd

    from belimo_cloud.store import Store

    with Store(store) as target:
        have = len({series.device_id for series in target.info().series})
        missing = max(valves - have, 0)
        rng = np.random.default_rng(7)
        start = window_start(days)
        buckets = days * 96
        dps = ["evcloud.210", "evcloud.140"]  # heating and cooling energy [J]
        level = rng.uniform(1e9, 1e11, size=(missing, 2))
        power = rng.uniform(2e3, 4e4, size=(missing, 1))
        points = 0
        began = time.perf_counter()
        for lo in range(0, buckets, WINDOW):
            n = min(WINDOW, buckets - lo)
            stamps = pd.date_range(
                start + timedelta(minutes=15 * lo), periods=n, freq="15min", tz="UTC"
            )
            season = np.cos(2 * np.pi * (np.arange(lo, lo + n) / 96 - 15) / 365)
            for d in range(missing):
                # Heating in winter, cooling in summer, whole kJ like a real meter.
                share = np.stack([np.clip(season, 0, None), np.clip(-season, 0, None)])
                rises = np.round(power[d] * 900 * share * rng.uniform(0.5, 1.0, size=(2, n)), -3)
                values = level[d][:, None] + np.cumsum(rises, axis=1)
                level[d] = values[:, -1]
                frame = pd.DataFrame(
                    {
                        "datapoint_id": np.repeat(dps, n),
                        "timestamp": np.tile(stamps, 2),
                        "value": values.ravel(),
                    }
                )
                points += target.write_chunk(
                    frame,
                    device_id=f"synthetic-{d:05d}",
                    datapoint_ids=dps,
                    resolution="15m",
                    aggregation="last",
                    start=stamps[0].to_pydatetime(),
                    end=(stamps[-1] + pd.Timedelta(minutes=15)).to_pydatetime(),
                )
        fill_seconds = time.perf_counter() - began
        began = time.perf_counter()
        total = target.compact()
        compact_seconds = time.perf_counter() - began
    size = sum(p.stat().st_size for p in store.parent.iterdir() if p.name.startswith(store.name))
    return {
        "synthetic_devices": missing,
        "synthetic_points": points,
        "fill_seconds": round(fill_seconds, 2),
        "fill_points_per_s": round(points / fill_seconds) if fill_seconds else None,
        "fill_peak_rss_mb": round(peak_rss_mb(), 1),
        "compact_seconds": round(compact_seconds, 2),
        "points": total,
        "store_mb": round(size / 1e6, 1),
        "store_bytes_per_point": round(size / total, 2) if total else None,
    }


def phase_energy(store: Path, out: Path) -> dict[str, Any]:
    """Monthly energy per valve as `belimo energy --store` computes it (``store_energy``)."""
    from belimo_cloud.report import store_energy
    from belimo_cloud.store import Store

    began = time.perf_counter()
    with Store.open(store, read_only=True) as source:
        result = store_energy(source, freq="MS", tz=TZ)
        catalogue = source.catalogue()
    seconds = time.perf_counter() - began
    monthly = result.energy
    monthly.to_parquet(out)
    # Which stored datapoint is which direction: Spark sees datapoint ids in the export.
    named = catalogue[catalogue["name"].isin(COUNTERS)].drop_duplicates("datapoint_id")
    directions = {row.datapoint_id: COUNTERS[row.name] for row in named.itertuples()}
    out.with_suffix(".json").write_text(json.dumps(directions))
    return {
        "energy_seconds": round(seconds, 2),
        "energy_peak_rss_mb": round(peak_rss_mb(), 1),
        "energy_rows": len(monthly),
        "energy_valves": int(monthly["device_id"].nunique()),
        "energy_batches": result.batches,
    }


def phase_export(store: Path, target: Path) -> dict[str, Any]:
    from belimo_cloud.store import Store

    began = time.perf_counter()
    with Store.open(store, read_only=True) as source:
        rows = source.export(target, format="parquet")
    seconds = time.perf_counter() - began
    size = sum(p.stat().st_size for p in target.rglob("*.parquet"))
    return {
        "export_seconds": round(seconds, 2),
        "export_peak_rss_mb": round(peak_rss_mb(), 1),
        "export_rows": rows,
        "export_mb": round(size / 1e6, 1),
    }


def phase_spark(export: Path, single: Path, scratch: Path) -> dict[str, Any]:
    import pandas as pd
    from pyspark.sql import SparkSession

    from belimo_cloud.analysis.spark import consumption_spark, spark_result_frame

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("belimo-scale")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.local.dir", str(scratch))
        .config("spark.driver.memory", "2g")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "America/New_York")  # not the analysis zone
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        began = time.perf_counter()
        samples = spark.read.parquet(str(export))
        result = consumption_spark(samples, freq="MS", tz=TZ, resolution="15m")
        got = spark_result_frame(result, tz=TZ, by=("device_id", "datapoint_id"))
        seconds = time.perf_counter() - began
    finally:
        spark.stop()
    expected = pd.read_parquet(single)
    directions = json.loads(single.with_suffix(".json").read_text())
    got = got[got["datapoint_id"].isin(directions)]
    got.insert(1, "direction", got.pop("datapoint_id").map(directions))
    # A counter that reads zero throughout gives no rows on one machine (`belimo energy`).
    keys = ["device_id", "direction"]
    used = got.merge(expected[keys].drop_duplicates(), on=keys, how="left", indicator=True)
    unused_energy = float(used.loc[used["_merge"] == "left_only", "consumption"].abs().sum())
    got = got[(used["_merge"] == "both").to_numpy()]
    for frame in (got, expected):
        for col in ("device_id", "direction", "quality"):
            frame[col] = frame[col].astype(str)
    got = got.sort_values([*keys, "period"], kind="stable").reset_index(drop=True)
    expected = expected.sort_values([*keys, "period"], kind="stable").reset_index(drop=True)
    expected["period"] = expected["period"].dt.tz_convert(TZ).dt.as_unit("ns")
    try:
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        equal = unused_energy == 0
    except AssertionError as exc:
        print(f"spark differs: {str(exc).splitlines()[0]}", file=sys.stderr)
        equal = False
    return {"spark_seconds": round(seconds, 2), "spark_equal": equal, "spark_rows": len(got)}


# -- driver ----------------------------------------------------------------------------------


def child(phase: str, args: list[str]) -> None:
    if phase == "sync":
        result = phase_sync(Path(args[0]), int(args[1]), int(args[2]))
    elif phase == "fill":
        result = phase_fill(Path(args[0]), int(args[1]), int(args[2]))
    elif phase == "energy":
        result = phase_energy(Path(args[0]), Path(args[1]))
    elif phase == "export":
        result = phase_export(Path(args[0]), Path(args[1]))
    else:
        result = phase_spark(Path(args[0]), Path(args[1]), Path(args[2]))
    print(json.dumps(result))


def run_phase(phase: str, *args: object) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", phase, *map(str, args)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def spark_available() -> bool:
    return shutil.which("java") is not None and importlib.util.find_spec("pyspark") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--valves", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark phase")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        child(args.child, rest)
        return
    report: dict[str, Any] = {"valves": args.valves, "days": args.days}
    with tempfile.TemporaryDirectory(prefix="belimo-scale-") as tmp:
        root = Path(tmp)
        store = root / "store.duckdb"
        report |= run_phase("sync", store, args.valves, args.days)
        report |= run_phase("fill", store, args.valves, args.days)
        report |= run_phase("energy", store, root / "monthly.parquet")
        report |= run_phase("export", store, root / "export")
        if args.no_spark or not spark_available():
            report |= {"spark_equal": None, "spark_seconds": None}
        else:
            (root / "spark").mkdir()
            report |= run_phase("spark", root / "export", root / "monthly.parquet", root / "spark")
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
