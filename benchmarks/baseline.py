"""Baseline benchmark: weather-normalised baselines and savings for 1,000 valves x 2 years.

Builds daily energy for ``--valves`` heating valves over 2017 and 2018 (each with its own
balance point, slope, base load and noise; one in ten with a 10 % cut from 2018), then times
:func:`belimo_cloud.analysis.mv_fleet.fleet_savings` with 2017 as baseline and 2018 as
reporting period: per valve a change-point search over four model forms on the baseline,
savings with uncertainty, and a second fit on the reporting year for the normalised annual
consumption. Also times one valve's fit alone. Figures are the best of ``--runs`` runs
(the machine is shared); wall-clock, single process.

Usage: ``python benchmarks/baseline.py [--json] [--valves N] [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.mv_fleet import Period, fleet_savings
from belimo_cloud.analysis.mv_models import fit_change_point

TZ = "Europe/Zurich"
DAYS = pd.date_range("2017-01-01", "2018-12-31", freq="D", tz=TZ)
CUT = pd.Timestamp("2018-01-01", tz=TZ)


def _temperature(seed: int = 0) -> pd.Series[float]:
    rng = np.random.default_rng(seed)
    doy = np.arange(len(DAYS))
    values = 9.6 - 9.4 * np.cos(2 * np.pi * (doy - 17) / 365.25) + rng.normal(0, 3, len(DAYS))
    return pd.Series(values, index=DAYS, name="temperature")


def _fleet(valves: int, temperature: pd.Series[float], seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = temperature.to_numpy()
    after = DAYS >= CUT
    blocks = []
    for k in range(valves):
        balance = rng.uniform(12.0, 17.0)
        slope = rng.uniform(2.0, 40.0)
        base = rng.uniform(0.0, 0.1) * slope * 10
        cut = 0.10 if k % 10 == 0 else 0.0
        energy = (base + slope * np.maximum(0.0, balance - t)) * np.where(after, 1 - cut, 1.0)
        energy = np.maximum(energy + rng.normal(0, 0.08 * slope * 3, len(t)), 0.0)
        blocks.append(
            pd.DataFrame(
                {
                    "device_id": f"valve-{k:04d}",
                    "direction": "heating",
                    "period": DAYS,
                    "consumption": energy,
                    "coverage": 1.0,
                }
            )
        )
    return pd.concat(blocks, ignore_index=True)


def run(valves: int, runs: int) -> dict[str, Any]:
    temperature = _temperature()
    daily = _fleet(valves, temperature)
    baseline = Period(DAYS[0], CUT)
    reporting = Period(CUT, DAYS[-1] + pd.Timedelta(days=1))
    best = float("inf")
    result = pd.DataFrame()
    for _ in range(runs):
        start = time.perf_counter()
        result = fleet_savings(daily, temperature, baseline=baseline, reporting=reporting)
        best = min(best, time.perf_counter() - start)
    one = result.iloc[0]
    t = temperature.to_numpy()[:365]
    y = daily["consumption"].to_numpy()[:365]
    fits = 50
    start = time.perf_counter()
    for _ in range(fits):
        fit_change_point(t, y)
    single = (time.perf_counter() - start) / fits
    devices = result[result["device_id"] != "fleet"]
    cut = devices[devices["device_id"].str[-1] == "0"]["savings_percent"]
    kept = devices[devices["device_id"].str[-1] != "0"]
    return {
        "valves": valves,
        "days": len(DAYS),
        "seconds": round(best, 2),
        "valves_per_second": round(valves / best, 1),
        "single_fit_ms": round(single * 1000, 2),
        "runs": runs,
        "first_valve_form": str(one["form"]),
        "cut_valves_mean_savings_percent": round(float(cut.mean()), 2),
        "other_valves_significant_share": round(float(kept["significant"].mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    parser.add_argument("--valves", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    figures = run(args.valves, args.runs)
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"{figures['valves']} valves x {figures['days']} days: {figures['seconds']} s "
        f"({figures['valves_per_second']} valves/s; one fit {figures['single_fit_ms']} ms)"
    )
    print(
        f"valves with a 10 % cut: mean savings {figures['cut_valves_mean_savings_percent']} %; "
        f"others flagged significant: {figures['other_valves_significant_share']:.1%}"
    )


if __name__ == "__main__":
    main()
