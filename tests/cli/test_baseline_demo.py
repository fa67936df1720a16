"""Demo truth: the designed efficiency measure is found; valves without one show none."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from belimo_cloud.cli import weather_cmd
from belimo_cloud.emulator.model.build import build
from belimo_cloud.emulator.model.measures import MEASURES
from belimo_cloud.emulator.model.physics import valve_power_flow
from belimo_cloud.emulator.model.weather import Climate
from tests.cli.conftest import Invoke

MEASURE = MEASURES[0]


def test_the_measure_cuts_the_load_by_its_share_at_equal_weather() -> None:
    built = build(0)
    by_name = {d.display_name: d for d in built.devices if d.owner is built.tenants[0]}
    spec = by_name[MEASURE.display_name]
    model = built.models[spec.id]
    valve = model.valve
    assert valve is not None and valve.measure == (MEASURE.start_epoch, MEASURE.share)
    times = np.arange(MEASURE.start_epoch - 86_400 * 30, MEASURE.start_epoch + 86_400 * 30, 300)
    climate = Climate(0).at(times)
    with_measure, _ = valve_power_flow(valve, times, climate)
    without, _ = valve_power_flow(replace(valve, measure=None), times, climate)
    before = times < MEASURE.start_epoch
    assert np.array_equal(with_measure[before], without[before])
    share = 1.0 - with_measure[~before].sum() / without[~before].sum()
    assert share == pytest.approx(MEASURE.share, abs=0.005)


@pytest.mark.slow
def test_baseline_finds_the_designed_measure(
    invoke: Invoke, on_emulator: str, tmp_path: Path
) -> None:
    weather = tmp_path / "weather.csv"
    text = weather_cmd.demo_weather(
        datetime(2016, 12, 31, 23, tzinfo=UTC), datetime(2018, 12, 31, 23, tzinfo=UTC)
    )
    weather.write_text(text)
    result = invoke(
        "baseline",
        "--baseline",
        "2017-01-01..2018-01-01",
        "--reporting",
        "2018-01-01..2019-01-01",
        "--weather",
        str(weather),
        "--search",
        "Heizung EG",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    rows: dict[str, dict[str, Any]] = {r["display_name"]: r for r in json.loads(result.stdout)}
    measured = rows.pop(MEASURE.display_name)
    assert measured["savings_percent"] == pytest.approx(100 * MEASURE.share, abs=3.0)
    assert measured["significant"] is True
    rows.pop("fleet")
    assert len(rows) == 3
    for row in rows.values():
        assert row["significant"] is False
        assert abs(row["savings_percent"]) < row["savings_percent_uncertainty"]
