"""`belimo energy`: kWh per device and local period, from the API or from the store."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Invoke, one_line

VALVE = "Heizung EG Süd-West"


def rows_of(invoke: Invoke, *args: str) -> list[dict[str, Any]]:
    result = invoke("energy", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_days_from_the_api_across_dst(invoke: Invoke, on_emulator: str) -> None:
    rows = rows_of(
        invoke, "--by", "day", "--search", VALVE, "--from", "2018-03-24", "--to", "2018-03-27"
    )
    heating = [r for r in rows if r["direction"] == "heating"]
    assert [r["period"] for r in heating] == ["2018-03-24", "2018-03-25", "2018-03-26"]
    assert all(r["kwh"] > 0 and r["quality"] == "ok" and r["coverage"] == 1 for r in heating)
    assert {r["display_name"] for r in rows} == {f"Energieventil {VALVE}"}


def test_weeks_and_months_in_every_format(invoke: Invoke, on_emulator: str) -> None:
    weeks = rows_of(
        invoke, "--by", "week", "--search", VALVE, "--from", "2018-01-01", "--to", "2018-01-29"
    )
    heating = [r for r in weeks if r["direction"] == "heating"]
    assert [r["period"] for r in heating] == [
        "2018-01-01",
        "2018-01-08",
        "2018-01-15",
        "2018-01-22",
    ]
    months = rows_of(
        invoke, "--by", "month", "--search", VALVE, "--from", "2018-01-01", "--to", "2018-03-01"
    )
    by_month = {r["period"]: r["kwh"] for r in months if r["direction"] == "heating"}
    assert set(by_month) == {"2018-01", "2018-02"}
    # Weeks and months cut the same counter: January's four whole weeks are part of January.
    assert sum(r["kwh"] for r in heating) < by_month["2018-01"]
    result = invoke(
        "energy",
        "--by",
        "month",
        "--search",
        VALVE,
        "--from",
        "2018-01-01",
        "--to",
        "2018-03-01",
        "--format",
        "csv",
    )
    assert result.exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == len(months)
    table = invoke(
        "energy", "--by", "month", "--search", VALVE, "--from", "2018-01-01", "--to", "2018-03-01"
    )
    assert table.exit_code == 0
    assert "2018-02" in table.stdout


@pytest.mark.slow
def test_from_the_store_matches_the_api(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    store = str(tmp_path / "fleet.duckdb")
    synced = invoke(
        "sync",
        "--search",
        VALVE,
        "--datapoints",
        "heating_energy,cooling_energy",
        "--from",
        "2018-01-31T22:00:00Z",
        "--to",
        "2018-03-01T01:00:00Z",
        "--resolution",
        "1h",
        "--store",
        store,
        "--format",
        "json",
    )
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)[0]["requests"] >= 1
    offline = rows_of(
        invoke, "--by", "month", "--store", store, "--from", "2018-02-01", "--to", "2018-03-01"
    )
    online = rows_of(
        invoke, "--by", "month", "--search", VALVE, "--from", "2018-02-01", "--to", "2018-03-01"
    )
    assert offline == online
    info = invoke("store", "info", "--store", store, "--format", "json")
    assert info.exit_code == 0
    assert len(json.loads(info.stdout)) == 2


def test_bad_zone_and_missing_store(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    result = invoke("energy", "--tz", "Mars/Olympus")
    assert result.exit_code == 1
    assert "--tz" in one_line(result.stderr)
    result = invoke("energy", "--store", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 1
    assert "belimo sync" in one_line(result.stderr)
