"""Benchmark the emulator over real HTTP: timeseries, device lists, throughput and big fleets.

1. In-process (the designed fleet): a 10,000-bucket timeseries of 4 datapoints, device-list
   pages, and the first device list (the counters' warm-up).
2. Throughput: the emulator in its own process, 1, 2 and 4 clients (threads of this process,
   ``http.client`` on keep-alive connections, bodies read and not parsed) sending those heavy
   timeseries requests for different valves; requests/s of each, best of ``--rounds``, and the
   ratio of 4 clients to 1 (2.0 would be both cores of a 2-core machine). Beside each rate,
   the emulator process's CPU use: its CPU seconds (user + system, from ``/proc/PID/stat``)
   over the wall seconds of that figure, the best of the rounds; above 1.0 it ran on more
   than one core at once. Other jobs on the machine lower it (they take cores from it); the
   1-minute load average is printed with it.
3. Fleet sizes (``--fleet-sizes``): per size, the emulator in a new process: launch to URL
   (imports included) and start (app, fleet and listening socket), the first device list, a
   walk over every page (limit 2000), a 10,000-bucket timeseries of a generated valve's two
   energy counters, and the emulator process's peak RSS.

Prints its figures; ``--json`` prints one JSON object instead. Target on a 2-core machine:
``timeseries_10000x4_ms`` under 100. Nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from belimo_cloud.emulator import EmulatorOptions, running_emulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DATAPOINTS = "evcloud.210,evcloud.200,evcloud.140,evcloud.100"
COUNTERS = "evcloud.210,evcloud.200"
WINDOW = {"from": "2018-01-01T00:00:00Z", "to": "2018-04-15T04:00:00Z"}  # 10,000 x 15 min
RECENT = {"from": "2025-11-20T00:00:00Z", "to": "2026-03-04T04:00:00Z"}  # 10,000 x 15 min
LOGIN = {
    "grant_type": "password",
    "username": "__UserPlaceHolder__",
    "password": "__PasswordPlaceHolder__",
    "client_id": "__ClientIDPlaceHolder__",
    "client_secret": "__ClientSecretPlaceHolder__",
    "scope": "public.read read:dataprofile",
}
# The emulator in a process of its own: prints its URL and start time, then its peak RSS
# when its stdin reaches a newline.
CHILD = """
import json, resource, sys, time
from datetime import datetime
began = time.perf_counter()
from belimo_cloud.emulator import EmulatorOptions, running_emulator
imported = time.perf_counter()
size = json.loads(sys.argv[2])
options = EmulatorOptions(
    seed=0, now=datetime.fromisoformat(sys.argv[1]), rate_limit=0, fleet_size=size
)
with running_emulator(options) as url:
    listening = time.perf_counter()
    print(json.dumps({"url": url, "start_s": listening - imported}), flush=True)
    sys.stdin.readline()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mb": rss}), flush=True)
"""


def login(client: httpx.Client, url: str) -> str:
    response = client.post(f"{url}/oauth/token", data=LOGIN)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def measure(repeats: int, seconds: float) -> dict[str, float]:
    """The in-process figures of the designed fleet."""
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


class Emulator:
    """The emulator in a child process (see CHILD), for figures free of this process's GIL."""

    def __init__(self, fleet_size: int | None = None) -> None:
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, NOW.isoformat(), json.dumps(fleet_size)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        head = json.loads(self.process.stdout.readline())
        self.launch_s = time.perf_counter() - began
        self.start_s: float = head["start_s"]
        self.url: str = head["url"]
        self.client = httpx.Client(base_url=self.url, timeout=600)
        self.token = login(self.client, self.url)
        self.client.headers["Authorization"] = f"Bearer {self.token}"

    def peak_rss_mb(self) -> float:
        """Ends the child; its peak RSS."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        tail = json.loads(self.process.stdout.readline())
        self.close()
        rss: float = tail["peak_rss_mb"]
        return rss

    def close(self) -> None:
        self.client.close()
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all its threads), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat.rsplit(")", 1)[1].split()  # after the command name
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _requests_per_s(
    url: str, token: str, paths: list[str], clients: int, seconds: float, *, pid: int
) -> tuple[float, float]:
    """Requests answered per second by ``clients`` threads, each on its own connection, and
    the CPU seconds per wall second that process ``pid`` (the emulator) used meanwhile."""
    host = urllib.parse.urlsplit(url)
    counts = [0] * clients
    stop = time.perf_counter() + seconds
    failures: list[str] = []

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(
            host.hostname or "127.0.0.1", host.port, timeout=120
        )
        headers = {"Authorization": f"Bearer {token}"}
        index = number
        try:
            while time.perf_counter() < stop:
                connection.request("GET", paths[index % len(paths)], headers=headers)
                answer = connection.getresponse()
                answer.read()
                if answer.status != 200:
                    failures.append(f"{answer.status}")
                    return
                counts[number] += 1
                index += clients
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    cpu_before = _cpu_seconds(pid)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    cpu = _cpu_seconds(pid) - cpu_before
    if failures:
        raise RuntimeError(f"a timeseries request answered {failures[0]}")
    return sum(counts) / wall, cpu / wall


def throughput(rounds: int, seconds: float) -> dict[str, float]:
    """Heavy timeseries requests per second from 1, 2 and 4 concurrent clients."""
    emulator = Emulator()
    try:
        listed = emulator.client.get("/api/v3/devices", params={"search": "Energieventil"})
        valves = [d["id"] for d in listed.json()["data"] if d["health"].get("lastSeen")]
        query = urllib.parse.urlencode({"datapointIds": DATAPOINTS, "resolution": "15m", **WINDOW})
        paths = [f"/api/v3/devices/{v}/data/history/timeseries?{query}" for v in valves]
        pid = emulator.process.pid
        _requests_per_s(emulator.url, emulator.token, paths, 2, 1.0, pid=pid)  # warm-up
        best: dict[int, float] = {}
        cores: dict[int, float] = {}
        for _ in range(rounds):
            for clients in (1, 2, 4):
                rps, cpu = _requests_per_s(
                    emulator.url, emulator.token, paths, clients, seconds, pid=pid
                )
                best[clients] = max(best.get(clients, 0.0), rps)
                cores[clients] = max(cores.get(clients, 0.0), cpu)
    finally:
        emulator.close()
    return {
        "timeseries_rps_1": round(best[1], 1),
        "timeseries_rps_2": round(best[2], 1),
        "timeseries_rps_4": round(best[4], 1),
        "timeseries_rps_ratio_4_to_1": round(best[4] / best[1], 2),
        "emulator_cpu_per_wall_1": round(cores[1], 2),
        "emulator_cpu_per_wall_2": round(cores[2], 2),
        "emulator_cpu_per_wall_4": round(cores[4], 2),
        "load_average_1min": os.getloadavg()[0],
    }


def fleet(size: int) -> dict[str, Any]:
    """Start, first list, full walk, a generated valve's timeseries and peak RSS at ``size``."""
    emulator = Emulator(size)
    try:
        began = time.perf_counter()
        first = emulator.client.get("/api/v3/devices")
        first.raise_for_status()
        first_list_s = time.perf_counter() - began
        total = first.json()["paging"]["total"]
        began = time.perf_counter()
        ids: list[str] = []
        while len(ids) < total:
            page = emulator.client.get(
                "/api/v3/devices", params={"limit": 2000, "offset": len(ids)}
            )
            page.raise_for_status()
            ids.extend(d["id"] for d in page.json()["data"])
        walk_s = time.perf_counter() - began
        newest = emulator.client.get(
            "/api/v3/devices", params={"sortBy": "productionId", "sortDirection": "DESC"}
        ).json()["data"]
        path = f"/api/v3/devices/{newest[0]['id']}/data/history/timeseries"
        query = {"datapointIds": COUNTERS, "resolution": "15m", **RECENT}
        timings = []
        for _ in range(4):
            began = time.perf_counter()
            answer = emulator.client.get(path, params=query)
            answer.raise_for_status()
            timings.append(time.perf_counter() - began)
        launch_s, start_s = emulator.launch_s, emulator.start_s
        rss = emulator.peak_rss_mb()
    except BaseException:
        emulator.close()
        raise
    return {
        f"fleet_{size}_devices": total,
        f"fleet_{size}_launch_s": round(launch_s, 2),
        f"fleet_{size}_start_s": round(start_s, 2),
        f"fleet_{size}_first_devices_list_s": round(first_list_s, 2),
        f"fleet_{size}_walk_all_pages_s": round(walk_s, 2),
        f"fleet_{size}_walked_devices": len(set(ids)),
        f"fleet_{size}_timeseries_10000x2_ms": round(min(timings[1:]) * 1000, 1),
        f"fleet_{size}_peak_rss_mb": round(rss, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=15, help="timeseries requests to time")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per figure of rate")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (best kept)")
    parser.add_argument(
        "--fleet-sizes",
        default="1000,5000",
        help="comma-separated fleet sizes to start (empty: none)",
    )
    args = parser.parse_args()
    figures: dict[str, Any] = measure(args.repeats, args.seconds)
    figures.update(throughput(args.rounds, args.seconds))
    for size in [int(s) for s in args.fleet_sizes.split(",") if s.strip()]:
        figures.update(fleet(size))
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
    print(
        "heavy timeseries requests/s with 1, 2, 4 clients: "
        f"{figures['timeseries_rps_1']}, {figures['timeseries_rps_2']}, "
        f"{figures['timeseries_rps_4']} (4 to 1: {figures['timeseries_rps_ratio_4_to_1']}x)"
    )
    print(
        "emulator CPU s per wall s meanwhile (>1.0: more than one core) with 1, 2, 4 clients: "
        f"{figures['emulator_cpu_per_wall_1']}, {figures['emulator_cpu_per_wall_2']}, "
        f"{figures['emulator_cpu_per_wall_4']} (load average {figures['load_average_1min']})"
    )
    for name, value in figures.items():
        if name.startswith("fleet_"):
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
