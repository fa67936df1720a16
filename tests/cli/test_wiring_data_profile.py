"""--data-profile selects devices in energy, report, plot and baseline; --profile after the
command still works for one release, with a warning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Invoke, one_line

DAYS = ("--from", "2018-01-08", "--to", "2018-01-10")
VALVE = ("--search", "Heizung EG Süd-West")


def _energy(invoke: Invoke, *args: str) -> tuple[list[dict[str, Any]], str]:
    result = invoke("energy", "--by", "day", *DAYS, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows, result.stderr


def test_energy_selects_by_data_profile(invoke: Invoke, on_emulator: str) -> None:
    everything, _ = _energy(invoke)
    valves, stderr = _energy(invoke, "--data-profile", "energyvalve3")
    assert not stderr.strip()
    assert valves == everything  # only Energy Valves have energy counters
    exact, _ = _energy(invoke, "--data-profile", "energyvalve3/1.2")
    assert exact and {r["device_id"] for r in exact} <= {r["device_id"] for r in valves}
    none = invoke("energy", *DAYS, "--data-profile", "nosuchprofile/9.9")
    assert none.exit_code == 3, none.output
    assert "no " in one_line(none.stderr)


def test_the_old_spelling_still_works_with_a_warning(invoke: Invoke, on_emulator: str) -> None:
    new, _ = _energy(invoke, *VALVE, "--data-profile", "energyvalve3")
    old, stderr = _energy(invoke, *VALVE, "--profile", "energyvalve3")
    assert old == new
    assert "--data-profile" in one_line(stderr)
    assert "deprecated" in stderr


@pytest.mark.parametrize("command", ["energy", "report", "plot", "baseline"])
def test_disagreeing_spellings_are_a_usage_error(
    invoke: Invoke, tmp_path: Path, command: str
) -> None:
    extra: tuple[str, ...] = {
        "plot": ("fleet", "-o", str(tmp_path / "x.png")),
        "baseline": ("--baseline", "2018-01-01..2018-02-01", "--weather", str(tmp_path)),
    }.get(command, ())
    result = invoke(
        command,
        *extra,
        "--data-profile",
        "energyvalve3",
        "--profile",
        "gateway",
        "--store",
        str(tmp_path / "none.duckdb"),
    )
    assert result.exit_code == 1, result.output
    assert "disagree" in result.stderr
    assert "bug" not in result.stderr


def test_report_and_plot_select_by_data_profile(
    invoke: Invoke, on_emulator: str, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    result = invoke(
        "report",
        "--search",
        "Heizung 2.OG",
        "--data-profile",
        "energyvalve3",
        *DAYS,
        "-o",
        str(target),
    )
    assert result.exit_code == 0, result.output
    assert "Energieventil Heizung 2.OG" in target.read_text(encoding="utf-8")
    figure = tmp_path / "fleet.png"
    fleet = invoke("plot", "fleet", "--data-profile", "energyvalve3", "-o", str(figure))
    assert fleet.exit_code == 0, fleet.output
    assert figure.read_bytes().startswith(b"\x89PNG")
    nothing = invoke(
        "plot", "fleet", "--data-profile", "nosuchprofile", "-o", str(tmp_path / "none.png")
    )
    assert nothing.exit_code == 3, nothing.output
    assert "no devices" in one_line(nothing.stderr)


def test_baseline_selects_by_data_profile(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    weather = tmp_path / "weather.csv"
    made = invoke(
        "emulator", "weather", "--from", "2017-10-01", "--to", "2018-01-01", "-o", str(weather)
    )
    assert made.exit_code == 0, made.output
    args = (
        "baseline",
        "--baseline",
        "2017-10-01..2018-01-01",
        "--weather",
        str(weather),
        *VALVE,
        "--format",
        "json",
    )
    result = invoke(*args, "--data-profile", "energyvalve3")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["device_id"] for r in rows} - {"fleet"}
    other = invoke(*args, "--data-profile", "nosuchprofile")
    assert other.exit_code == 3, other.output
