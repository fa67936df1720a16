"""`belimo baseline`, `belimo degree-days` and `belimo emulator weather` on the demo cloud."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from belimo_cloud.cli.exit_codes import ExitStatus
from tests.cli.conftest import Invoke, one_line
from tests.client.test_openmeteo import _Archive, _temperature, serve_archive

VALVE = "Heizung EG Süd-West"


@pytest.fixture
def weather(invoke: Invoke, tmp_path: Path) -> Path:
    path = tmp_path / "weather.csv"
    result = invoke(
        "emulator", "weather", "--from", "2017-09-01", "--to", "2018-04-01", "-o", str(path)
    )
    assert result.exit_code == 0, result.output
    return path


def test_emulator_weather_is_the_csv_form(invoke: Invoke, weather: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(weather.read_text())))
    assert list(rows[0]) == ["site", "timestamp", "temperature"]
    assert rows[0]["timestamp"] == "2017-09-01"
    assert rows[-1]["timestamp"] == "2018-03-31"
    assert len(rows) == 212
    january = [float(r["temperature"]) for r in rows if r["timestamp"].startswith("2018-01")]
    july_free = all(-25 < t < 25 for t in january)
    assert july_free
    hourly = invoke("emulator", "weather", "--from", "2018-01-01", "--to", "2018-01-02", "--hourly")
    assert hourly.exit_code == 0
    assert hourly.stdout.splitlines()[1].startswith("demo,2017-12-31T23:00:00Z,")
    assert len(hourly.stdout.splitlines()) == 25


def _rows(invoke: Invoke, *args: str) -> list[dict[str, Any]]:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_baseline_per_device_and_fleet(
    invoke: Invoke, on_emulator: str, weather: Path, tmp_path: Path
) -> None:
    rows = _rows(
        invoke,
        "baseline",
        "--baseline",
        "2017-10-01..2018-01-01",
        "--reporting",
        "2018-01-01..2018-03-01",
        "--weather",
        str(weather),
        "--search",
        VALVE,
        "--plot",
        str(tmp_path / "signature.png"),
    )
    device, fleet = rows
    assert device["display_name"] == f"Energieventil {VALVE}"
    assert device["direction"] == "heating"
    assert device["form"] == "heating"
    assert 10 < device["heating_balance"] < 20
    assert device["r2"] > 0.8
    # No measure on this valve: its savings are within their own uncertainty.
    assert abs(device["savings_percent"]) < device["savings_percent_uncertainty"]
    assert device["significant"] is False
    assert device["baseline_days"] == 92
    assert device["reporting_days"] == 59
    assert fleet["device_id"] == "fleet"
    assert fleet["savings_kwh"] == pytest.approx(device["savings_kwh"], rel=1e-6)
    assert (tmp_path / "signature.png").stat().st_size > 1000


def test_baseline_table_and_csv(invoke: Invoke, on_emulator: str, weather: Path) -> None:
    args = [
        "baseline",
        "--baseline",
        "2017-10-01..2017-12-01",
        "--weather",
        str(weather),
        "--search",
        VALVE,
    ]
    table = invoke(*args)
    assert table.exit_code == 0, table.output
    assert "savings_percent" in table.stdout
    rows = list(csv.DictReader(io.StringIO(invoke(*args, "--format", "csv").stdout)))
    assert rows[0]["form"] == "heating"
    assert rows[0]["savings_percent"] == ""  # no --reporting: a baseline only
    assert "a full year" in rows[0]["warnings"]


def test_degree_days_by_month(invoke: Invoke, weather: Path) -> None:
    rows = _rows(
        invoke,
        "degree-days",
        "--weather",
        str(weather),
        "--from",
        "2017-10-01",
        "--to",
        "2018-01-01",
        "--by",
        "month",
        "--base",
        "15",
    )
    assert [r["period"] for r in rows] == ["2017-10", "2017-11", "2017-12"]
    assert [r["days"] for r in rows] == [31, 30, 31]
    days = _rows(
        invoke,
        "degree-days",
        "--weather",
        str(weather),
        "--from",
        "2017-10-01",
        "--to",
        "2018-01-01",
        "--base",
        "15",
    )
    assert sum(r["hdd"] for r in days) == pytest.approx(sum(r["hdd"] for r in rows), abs=0.01)
    assert sum(r["hgt"] for r in days) == pytest.approx(sum(r["hgt"] for r in rows), abs=0.01)
    assert all(
        r["hdd"] == pytest.approx(max(0.0, 15 - r["mean_temperature"]), abs=2e-3) for r in days
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--baseline", "2018-01-01", "--weather", "w.csv"], "START..END"),
        (["--baseline", "2018-01-01..2017-01-01", "--weather", "w.csv"], "after its start"),
        (["--baseline", "2017-01-01..2018-01-01", "--weather", "missing.csv"], "does not exist"),
    ],
)
def test_baseline_usage_errors(invoke: Invoke, args: list[str], message: str) -> None:
    result = invoke("baseline", *args)
    assert result.exit_code != 0
    assert message in one_line(result.stderr)


def test_unreadable_weather_is_one_line(invoke: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("when,what\n1,2\n")
    result = invoke("degree-days", "--weather", str(bad))
    assert result.exit_code == ExitStatus.USAGE
    assert "timestamp and temperature" in one_line(result.stderr)


@pytest.fixture
def archive() -> Iterator[str]:
    with serve_archive() as url:
        yield url


def test_degree_days_from_open_meteo(invoke: Invoke, archive: str, isolated_home: Path) -> None:
    args = ["degree-days", "--weather", "open-meteo:47.38,8.54", "--weather-url", archive]
    rows = _rows(invoke, *args, "--from", "2018-01-01", "--to", "2018-01-06")
    assert [r["period"] for r in rows] == ["2018-01-01", "2018-01-03", "2018-01-04", "2018-01-05"]
    assert rows[0]["mean_temperature"] == pytest.approx(_temperature(date(2018, 1, 1)))
    assert _Archive.requests[0]["end_date"] == "2018-01-05"
    assert list((isolated_home / "xdg_cache_home").rglob("openmeteo-*.json"))
    missing = invoke(*args)
    assert missing.exit_code == ExitStatus.USAGE
    assert "--from and --to" in one_line(missing.stderr)


@pytest.mark.slow
def test_baseline_from_a_store(
    invoke: Invoke, on_emulator: str, weather: Path, tmp_path: Path
) -> None:
    store = str(tmp_path / "fleet.duckdb")
    synced = invoke(
        "sync",
        "--search",
        VALVE,
        "--datapoints",
        "heating_energy,cooling_energy",
        "--from",
        "2017-09-30T00:00:00Z",
        "--to",
        "2018-03-02T00:00:00Z",
        "--resolution",
        "1h",
        "--store",
        store,
    )
    assert synced.exit_code == 0, synced.output
    args = ["--baseline", "2017-10-01..2018-01-01", "--reporting", "2018-01-01..2018-03-01"]
    offline = _rows(invoke, "baseline", *args, "--weather", str(weather), "--store", store)
    online = _rows(invoke, "baseline", *args, "--weather", str(weather), "--search", VALVE)
    assert offline[0]["device_id"] == online[0]["device_id"]
    assert offline[0]["savings_kwh"] == pytest.approx(online[0]["savings_kwh"], rel=1e-6)
