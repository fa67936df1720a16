"""Benchmark the emulator over real HTTP: a 10,000-bucket timeseries and device-list pages.

Prints its figures; ``--json`` prints one JSON object instead. Target on a 2-core machine:
``timeseries_10000x4_ms`` under 100.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime

import httpx

from belimo_cloud.emulator import EmulatorOptions, running_emulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DATAPOINTS = "evcloud.210,evcloud.200,evcloud.140,evcloud.100"
WINDOW = {"from": "2018-01-01T00:00:00Z", "to": "2018-04-15T04:00:00Z"}  # 10,000 x 15 min


def login(client: httpx.Client, url: str) -> str:
    response = client.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "password",
            "username": "__UserPlaceHolder__",
            "password": "__PasswordPlaceHolder__",
            "client_id": "__ClientIDPlaceHolder__",
            "client_secret": "__ClientSecretPlaceHolder__",
            "scope": "public.read read:dataprofile",
        },
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def measure(repeats: int, seconds: float) -> dict[str, float]:
    options = EmulatorOptions(seed=0, now=NOW, rate_limit=0)
    with running_emulator(options) as url, httpx.Client(base_url=url, timeout=120) as client:
        client.headers["Authorization"] = f"Bearer {login(client, url)}"
        started = time.perf_counter()
        listed = client.get("/api/v3/devices", params={"search": "Heizung", "limit": 100})
        listed.raise_for_status()
        warmup_s = time.perf_counter() - started
        device = listed.json()["data"][0]["id"]
        path = f"/api/v3/devices/{device}/data/history/timeseries"
        query = {"datapointIds": DATAPOINTS, "resolution": "15m", **WINDOW}

        timings: list[float] = []
        points = 0
        for index in range(repeats + 1):
            started = time.perf_counter()
            response = client.get(path, params=query)  # the whole body is read here
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            points = sum(len(s["values"]) for s in response.json()["series"])
            if index:  # the first call pays one-off warm-up
                timings.append(elapsed * 1000)

        pages = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            client.get("/api/v3/devices", params={"limit": 20, "offset": 20 * (pages % 2)})
            pages += 1
        rps = pages / (time.perf_counter() - started)
    return {
        "timeseries_10000x4_ms": round(statistics.median(timings), 2),
        "timeseries_10000x4_min_ms": round(min(timings), 2),
        "timeseries_points": points,
        "devices_page_rps": round(rps, 1),
        "first_devices_list_s": round(warmup_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=15, help="timeseries requests to time")
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent paging devices")
    args = parser.parse_args()
    figures = measure(args.repeats, args.seconds)
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"timeseries 10,000 buckets x 4 datapoints: {figures['timeseries_10000x4_ms']} ms "
        f"median (min {figures['timeseries_10000x4_min_ms']} ms, "
        f"{figures['timeseries_points']} points)"
    )
    print(f"device list pages (limit 20): {figures['devices_page_rps']} per second")
    print(f"first device list (fleet warm-up): {figures['first_devices_list_s']} s")


if __name__ == "__main__":
    main()
