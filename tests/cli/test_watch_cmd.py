"""`belimo watch` against a sped-up demo cloud: JSON lines, --count, --duration, no TTY table."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner, Result

from belimo_cloud.cli import live_cmd
from belimo_cloud.cli.app import BelimoGroup, _root
from belimo_cloud.client import Client
from tests.cli.conftest import demo_env, read_terminal
from tests.conftest import DEMO


def make_app() -> typer.Typer:
    app = typer.Typer(cls=BelimoGroup, name="belimo", pretty_exceptions_enable=False)
    app.callback()(_root)
    live_cmd.register(app)
    return app


APP = make_app()


def run(*args: str) -> Result:
    return CliRunner().invoke(APP, list(args))


@pytest.fixture
def cloud(make_emulator: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = make_emulator(seed=0, speed=600.0, rate_limit=0, heartbeat=0.5)
    for key, value in demo_env(url).items():
        monkeypatch.setenv(key, value)
    return url


def three_valves(url: str) -> list[str]:
    with Client(**DEMO, api_url=url, rate_limit=0, cache_tokens=False) as client:
        valves = [
            d
            for d in client.devices.list()
            if (d.dataprofile_id or "").startswith("energyvalve") and d.health.state == "OK"
        ]
    valves.sort(key=lambda d: d.health.last_seen or datetime.min, reverse=True)
    return [d.id for d in valves[:3]]


def events_of(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_watch_prints_events_of_three_valves_as_json_lines(cloud: str) -> None:
    devices = three_valves(cloud)
    result = run("watch", *devices, "--datapoints", "evcloud.140,evcloud.100", "--count", "9")
    events = events_of(result)
    assert len(events) == 9
    for event in events:
        assert event["device_id"] in devices
        assert event["kind"] == "update"
        assert set(event["datapoints"]) == {"evcloud.140", "evcloud.100"}  # type: ignore[arg-type]
        assert str(event["timestamp"]).endswith("Z")
    assert len({e["device_id"] for e in events}) == 3
    keys = [(e["device_id"], e["timestamp"]) for e in events]
    assert len(keys) == len(set(keys))
    assert "9 events" in result.stderr


def test_watch_by_name_and_duration(cloud: str) -> None:
    devices = three_valves(cloud)[:1]
    result = run("watch", *devices, "-d", "power", "--duration", "2s")
    events = events_of(result)
    assert events, result.stderr
    assert all(set(e["datapoints"]) == {"evcloud.140"} for e in events)  # type: ignore[arg-type]


def test_watch_csv_rows_per_sample(cloud: str) -> None:
    devices = three_valves(cloud)[:1]
    result = run("watch", *devices, "-d", "evcloud.140", "--count", "2", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "device_id,timestamp,kind,datapoint_id,value"
    assert len(lines) == 3


def test_watch_refuses_a_bad_duration(cloud: str) -> None:
    result = run("watch", "--duration", "soon")
    assert result.exit_code == 1
    assert "--duration" in result.stderr


@pytest.mark.slow
def test_killing_the_stream_mid_watch_loses_and_repeats_nothing(cloud: str) -> None:
    devices = three_valves(cloud)
    results: list[Result] = []
    watcher = threading.Thread(
        target=lambda: results.append(
            run(
                "watch",
                *devices,
                "-d",
                "evcloud.140",
                "--duration",
                "4",
                "--heartbeat-timeout",
                "1",
            )
        )
    )
    watcher.start()
    time.sleep(1.2)
    httpx.post(cloud + "/_emulator/streams/drop", json={}).raise_for_status()
    time.sleep(0.8)
    httpx.post(cloud + "/_emulator/streams/stall", json={"seconds": 1.5}).raise_for_status()
    watcher.join(30)
    events = events_of(results[0])
    assert "reconnect" in results[0].stderr
    with Client(**DEMO, api_url=cloud, rate_limit=0, cache_tokens=False) as client:
        for device in devices:
            stamps = [str(e["timestamp"]) for e in events if e["device_id"] == device]
            assert len(stamps) == len(set(stamps)), "a sample was printed twice"
            first, last = stamps[0], stamps[-1]
            history = client.history.raw(
                device, "evcloud.140", first, pd.Timestamp(last) + pd.Timedelta(seconds=1)
            )
            expected = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in history["timestamp"]]
            assert stamps == expected, "a sample was lost"
    assert any(e["kind"] == "backfill" for e in events)


TTY_APP = """
import sys, typer
from belimo_cloud.cli import live_cmd
from belimo_cloud.cli.app import BelimoGroup, _root
app = typer.Typer(cls=BelimoGroup, name="belimo")
app.callback()(_root)
live_cmd.register(app)
app(sys.argv[1:])
"""


def test_watch_on_a_terminal_draws_a_table(cloud: str) -> None:
    devices = three_valves(cloud)[:2]
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-c", TTY_APP, "watch", *devices, "-d", "evcloud.140", "--count", "4"],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(follower)
    screen = read_terminal(leader).decode("utf-8", "replace")
    assert process.wait(60) == 0, process.stderr.read() if process.stderr else ""
    os.close(leader)
    assert "datapoint" in screen and "evcloud.140" in screen
    assert "{" not in screen  # a table, not JSON lines


def test_watch_appends_json_lines_to_a_file(cloud: str, tmp_path: Path) -> None:
    devices = three_valves(cloud)[:1]
    target = tmp_path / "events.jsonl"
    for count in ("2", "3"):
        result = run("watch", *devices, "-d", "evcloud.140", "--count", count, "-o", str(target))
        assert result.exit_code == 0, result.stderr
        assert result.stdout == ""
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(lines) == 5
    assert {line["device_id"] for line in lines} == set(devices)
