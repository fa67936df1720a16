"""Each command against the emulator, in table, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Invoke

HEATING_FROM = "2018-01-01"
HEATING_TO = "2018-01-03"


def as_json(invoke: Invoke, *args: str) -> list[dict[str, Any]]:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    assert all(isinstance(row, dict) for row in rows)
    return rows


def as_csv(invoke: Invoke, *args: str) -> list[dict[str, str]]:
    result = invoke(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def as_table(invoke: Invoke, *args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def heating_valve(invoke: Invoke, on_emulator: str) -> dict[str, Any]:
    rows = as_json(invoke, "devices", "--search", "Heizung", "--sort", "name")
    return rows[0]


def test_stats(invoke: Invoke, on_emulator: str) -> None:
    (row,) = as_json(invoke, "stats")
    total = len(as_json(invoke, "devices", "--state", "all"))
    assert row["total_devices"] == total
    assert row["connection_online"] + row["connection_offline"] == total
    (line,) = as_csv(invoke, "stats")
    assert line["total_devices"] == str(total)
    assert "total_devices" in as_table(invoke, "stats")


def test_devices(invoke: Invoke, on_emulator: str) -> None:
    rows = as_json(invoke, "devices")
    assert len(rows) == len(as_csv(invoke, "devices")) > 0
    assert {"device_id", "display_name", "dataprofile", "health_state"} <= set(rows[0])
    heating = as_json(invoke, "devices", "--search", "Heizung")
    assert len(heating) >= 5
    assert all("Heizung" in row["display_name"] for row in heating)
    assert len(as_csv(invoke, "devices", "--search", "Heizung")) == len(heating)
    table = as_table(invoke, "devices", "--search", "Heizung")
    assert all(row["device_id"] in table for row in heating)


def test_devices_filters_and_sort(invoke: Invoke, on_emulator: str) -> None:
    valves = as_json(invoke, "devices", "--profile", "energyvalve3")
    assert valves
    assert all(row["dataprofile"].startswith("energyvalve3/") for row in valves)
    names = [row["display_name"] for row in as_json(invoke, "devices", "--sort", "-name")]
    assert names == sorted(names, reverse=True)
    problems = as_json(invoke, "devices", "--state", "problem")
    assert problems
    assert all(row["health_state"] in ("WARNING", "ERROR") for row in problems)


def test_profile_search(invoke: Invoke, on_emulator: str) -> None:
    rows = as_json(invoke, "profile", "energyvalve3/1.2", "--search", "Energy")
    names = {row["name"] for row in rows}
    assert {"Heating_E_J", "Cooling_E_J"} <= names
    heating = next(row for row in rows if row["name"] == "Heating_E_J")
    assert heating["datapoint_id"] == "evcloud.210"
    assert heating["unit"] == "joule"
    assert "Heating_E_J" in as_table(invoke, "profile", "energyvalve3/1.2", "--search", "energy")


def test_datapoints(invoke: Invoke, heating_valve: dict[str, Any]) -> None:
    rows = as_json(invoke, "datapoints", heating_valve["device_id"])
    assert "evcloud.210" in {row["datapoint_id"] for row in rows}
    assert as_csv(invoke, "datapoints", heating_valve["device_id"])


def test_state(invoke: Invoke, heating_valve: dict[str, Any]) -> None:
    rows = as_json(invoke, "state", heating_valve["device_id"])
    by_name = {row["name"]: row for row in rows}
    energy = by_name["Heating_E_J"]
    assert energy["unit"] == "joule"
    assert energy["display"].endswith("kWh")
    at = as_json(invoke, "state", heating_valve["device_id"], "--at", "2018-06-01T12:00:00Z")
    assert at[0]["timestamp"] <= "2018-06-01T12:00:00Z"
    assert "Heating_E_J" in as_table(invoke, "state", heating_valve["device_id"])


def test_history(invoke: Invoke, heating_valve: dict[str, Any], tmp_path: Path) -> None:
    args = (
        "history",
        heating_valve["device_id"],
        "heating_energy",
        "evcloud.140",
        "--from",
        HEATING_FROM,
        "--to",
        HEATING_TO,
        "--resolution",
        "1h",
    )
    rows = as_json(invoke, *args)
    assert len(rows) == 2 * 48
    assert {row["datapoint_id"] for row in rows} == {"evcloud.210", "evcloud.140"}
    assert rows[0]["timestamp"].endswith("Z")
    assert len(as_csv(invoke, *args)) == len(rows)
    target = tmp_path / "history.csv"
    result = invoke(*args, "--format", "csv", "-o", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert len(target.read_text(encoding="utf-8").splitlines()) == len(rows) + 1


def test_unknown_datapoint_exits_3(invoke: Invoke, heating_valve: dict[str, Any]) -> None:
    result = invoke("history", heating_valve["device_id"], "no_such_point")
    assert result.exit_code == 3
    assert "no_such_point" in result.stderr


def test_login_and_logout(invoke: Invoke, on_emulator: str) -> None:
    result = invoke("login")
    assert result.exit_code == 0, result.output
    assert "logged in" in result.stdout
    result = invoke("logout")
    assert result.exit_code == 0, result.output
    assert "logged out" in result.stdout


def test_settings_from_a_config_profile(
    invoke: Invoke, emulator_url: str, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = isolated_home / "belimo.toml"  # BELIMO_CONFIG of every test
    config.write_text(
        "[profiles.lab]\n"
        f'api_url = "{emulator_url}"\n'
        'client_id = "__ClientIDPlaceHolder__"\n'
        'client_secret = "__ClientSecretPlaceHolder__"\n'
        'username = "facility@example.org"\n'
        'password = "Second-Tenant-Password-1"\n'
        "rate_limit = 0\n",
        encoding="utf-8",
    )
    (row,) = as_json(invoke, "--profile", "lab", "stats")
    assert row["total_devices"] == 3
    (shown,) = as_json(invoke, "--profile", "lab", "config")
    assert shown["username"] == "facility@example.org"
    assert shown["password"] == "****"
    assert "Second-Tenant-Password-1" not in json.dumps(shown)
    monkeypatch.setenv("BELIMO_PROFILE", "lab")
    (row,) = as_json(invoke, "stats")
    assert row["total_devices"] == 3


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_every_format_of_config_and_stats(invoke: Invoke, on_emulator: str, fmt: str) -> None:
    for command in ("config", "stats"):
        result = invoke(command, "--format", fmt)
        assert result.exit_code == 0, result.output
        if fmt == "json":
            assert isinstance(json.loads(result.stdout), list)
        elif fmt == "csv":
            assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 1
        else:
            assert "field" in result.stdout
