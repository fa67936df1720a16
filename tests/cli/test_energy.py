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
    # A heating valve's cooling counter never moves: no rows for it.
    assert {r["direction"] for r in rows} == {"heating"}


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


def test_the_designed_glitch_gives_no_implausible_hour(invoke: Invoke, on_emulator: str) -> None:
    # The zero reading of 2018-01-17T23:55Z is the first reading of a window starting after it.
    rows = rows_of(
        invoke,
        "--by",
        "hour",
        "--search",
        "Heizung 4.OG Süd-Ost",
        "--from",
        "2018-01-18T01:00:00+01:00",
        "--to",
        "2018-01-18T07:00:00+01:00",
    )
    assert rows
    assert all(r["direction"] == "heating" for r in rows)
    ok_hours = [r["kwh"] for r in rows if r["quality"] == "ok"]
    # No hour above twice the largest clean hour (the valve's own pace), none negative.
    assert max(r["kwh"] for r in rows) <= 2 * max(ok_hours)
    assert min(r["kwh"] for r in rows) >= 0
    assert "outage" in rows[0]["quality"]


def test_direction_and_counter_options(invoke: Invoke, on_emulator: str) -> None:
    base = ("--by", "day", "--from", "2018-07-02", "--to", "2018-07-04")
    both = rows_of(invoke, *base, "--search", "Energieventil")
    cooling = rows_of(invoke, *base, "--search", "Energieventil", "--direction", "cooling")
    assert cooling and {r["direction"] for r in cooling} == {"cooling"}
    assert [r for r in both if r["direction"] == "cooling"] == cooling
    names = [r["display_name"] for r in both]
    assert names == sorted(names)
    tight = rows_of(
        invoke,
        *base,
        "--search",
        VALVE,
        "--direction",
        "heating",
        "--max-power",
        "1",
        "--reset-policy",
        "first",
        "--spread-gaps",
    )
    assert tight and all(r["kwh"] < 1 for r in tight)
    result = invoke("energy", *base, "--reset-policy", "sometimes")
    assert result.exit_code == 1  # a usage error, like a bad --tz
    assert "reset-policy" in result.stderr
