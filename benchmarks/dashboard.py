"""Dashboard benchmark: time to first chart and bytes sent, in headless Chromium.

Builds (or reuses, ``--store PATH``) a store synced from the demo cloud: 2018 for every valve
hourly (counters last, hydronics avg) and one valve at 15 minutes (4 datapoints: heating
energy, power, flow, dT: 35,040 buckets each). Serves it with ``belimo serve``'s app on a
loopback port and opens, in a fresh browser context each time (cold cache):

- the fleet page, and
- the device page of the 15-minute valve,

measuring from navigation start to the first chart Plotly drew (the page's ``first-chart``
performance mark) and to every chart drawn, and the bytes the server sent (transfer sizes,
compressed, from the browser's resource timing). A second, warm load (Plotly cached) is
measured too. The snapshot load (store read + fleet analysis, done once at start) is timed
apart. Each page figure is the best of ``--runs``. Usage:
``python benchmarks/dashboard.py [--json] [--runs N] [--store PATH]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.demo_store import build_store
from tests.web.server import serving

from belimo_cloud.emulator import EmulatorOptions, running_emulator
from belimo_cloud.web import ServeConfig, StoreData, create_app

FINE = "Energieventil Heizung EG Nord-Ost"
FLEET_CHARTS = ("connectivity", "health", "energy-heating", "energy-cooling")
DEVICE_CHARTS = ("energy", "power", "flow", "temperatures", "dt", "timeline", "scatter")

_TIMING = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const mark = performance.getEntriesByName('first-chart')[0];
  const sent = [nav, ...res].reduce((n, e) => n + (e.transferSize || 0), 0);
  const body = [nav, ...res].reduce((n, e) => n + (e.decodedBodySize || 0), 0);
  return {first_chart_ms: mark ? mark.startTime : null, bytes_sent: sent, bytes_decoded: body,
          requests: res.length + 1};
}"""


def _measure(browser: Any, url: str, charts: tuple[str, ...]) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        began = time.perf_counter()
        page.goto(url)
        for chart in charts:
            page.wait_for_selector(f"#chart-{chart}[data-drawn='1']", state="attached")
        all_drawn = (time.perf_counter() - began) * 1000
        cold = page.evaluate(_TIMING)
        page.reload()
        for chart in charts:
            page.wait_for_selector(f"#chart-{chart}[data-drawn='1']", state="attached")
        warm = page.evaluate(_TIMING)
    finally:
        context.close()
    return {
        "first_chart_s": round(cold["first_chart_ms"] / 1000, 3),
        "all_charts_s": round(all_drawn / 1000, 3),
        "bytes_sent": cold["bytes_sent"],
        "bytes_decoded": cold["bytes_decoded"],
        "requests": cold["requests"],
        "warm_first_chart_s": round(warm["first_chart_ms"] / 1000, 3),
        "warm_bytes_sent": warm["bytes_sent"],
    }


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return min(runs, key=lambda r: r["first_chart_s"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", type=Path, help="reuse this store instead of building one")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        store = args.store
        build_s = None
        if store is None:
            store = Path(tmp) / "dashboard.duckdb"
            began = time.perf_counter()
            with running_emulator(EmulatorOptions(seed=0, rate_limit=0)) as url:
                build_store(url, store)
            build_s = round(time.perf_counter() - began, 2)
        data = StoreData(store)
        began = time.perf_counter()
        snap = data.snapshot()
        load_s = round(time.perf_counter() - began, 2)
        fine = snap.devices.loc[snap.devices["display_name"] == FINE, "device_id"].iloc[0]
        with (
            serving(create_app(ServeConfig(store=store), data=data)) as base,
            sync_playwright() as pw,
        ):
            browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            fleet = _best([_measure(browser, base + "/", FLEET_CHARTS) for _ in range(args.runs)])
            device = _best(
                [
                    _measure(browser, f"{base}/devices/{fine}", DEVICE_CHARTS)
                    for _ in range(args.runs)
                ]
            )
            browser.close()
    result = {
        "store_rows": snap.rows,
        "devices": len(snap.devices),
        "fine_points_per_datapoint": len(snap.device(str(fine)).series("AbsPower_Fb_W")),
        "store_build_s": build_s,
        "snapshot_load_s": load_s,
        "fleet": fleet,
        "device_15min_year": device,
        "target_first_chart_s": 1.5,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"store: {result['store_rows']:,} rows, {result['devices']} devices; "
            f"snapshot load {load_s} s (once, at start)"
        )
        for name, r in (("fleet page", fleet), ("device page (15-min year)", device)):
            print(
                f"{name}: first chart {r['first_chart_s']} s, all charts {r['all_charts_s']} s, "
                f"{r['bytes_sent']:,} bytes sent cold ({r['requests']} requests), "
                f"warm first chart {r['warm_first_chart_s']} s, {r['warm_bytes_sent']:,} bytes"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
