"""Every plot renders headless to a non-empty PNG (and SVG) with its titles and unit labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from belimo_cloud import plot
from belimo_cloud.analysis import consumption
from belimo_cloud.errors import DataError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOW = pd.Timestamp("2026-11-20 12:00Z")


def texts(fig: Any) -> set[str]:
    """Every text on the figure: titles, axis labels, legend entries, annotations."""
    found = {t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))}
    for ax in fig.axes:
        found |= {ax.get_title(), ax.get_xlabel(), ax.get_ylabel()}
    if fig._suptitle is not None:
        found.add(fig._suptitle.get_text())
    return {t for t in found if t}


def render(fig: Any, tmp_path: Path, name: str) -> Path:
    png = plot.save(fig, tmp_path / f"{name}.png")
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 5_000
    svg = plot.save(fig, tmp_path / f"{name}.svg")
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    return png


def counter(days: int = 10, start: str = "2018-03-20") -> pd.Series:
    idx = pd.date_range(start, periods=days * 24 + 1, freq="h", tz="UTC")
    rng = np.random.default_rng(0)
    return pd.Series(np.cumsum(rng.uniform(0, 5, len(idx))) * 3.6e6, index=idx)


def test_consumption_bars(tmp_path: Path) -> None:
    c = counter()
    c.iloc[50] = 0.0  # a glitch
    c = c.drop(c.index[100:130])  # a gap
    fig = plot.consumption_bars(consumption(c), title="Heating energy per day")
    render(fig, tmp_path, "consumption")
    found = texts(fig)
    assert "Heating energy per day" in found
    assert "Energy [kWh]" in found
    assert "Day (Europe/Zurich)" in found
    assert "corrected (reset, glitch, jump)" in found
    assert "no data" in found or "incomplete (gap, partial)" in found
    auto = plot.consumption_bars(consumption(counter(), freq="MS")["consumption"], unit="MWh")
    assert "Energy [MWh]" in texts(auto)
    with pytest.raises(DataError):
        plot.consumption_bars(pd.DataFrame({"x": [1.0]}))


def long_energy() -> pd.DataFrame:
    rows = []
    for i in range(12):
        res = consumption(counter() * (i + 1))
        rows.append(res.reset_index().assign(device_id=f"dev{i}", direction="heating"))
    return pd.concat(rows, ignore_index=True)


def test_stacked_consumption(tmp_path: Path) -> None:
    devices = pd.DataFrame(
        {
            "device_id": [f"dev{i}" for i in range(12)],
            "display_name": [f"Valve {i}" for i in range(12)],
        }
    )
    fig = plot.stacked_consumption(long_energy(), devices, top=5)
    render(fig, tmp_path, "stacked")
    found = texts(fig)
    assert "Consumption per day by device" in found
    assert "Energy [kWh]" in found
    assert "Valve 11" in found  # the largest consumer is named
    assert "7 other devices" in found


def test_calendar_heatmap_handles_dst(tmp_path: Path) -> None:
    hourly = consumption(counter(), freq="h")
    fig = plot.calendar_heatmap(hourly, title="Energy per hour")
    render(fig, tmp_path, "heatmap")
    found = texts(fig)
    assert "Energy per hour" in found
    assert "Hour of day" in found
    assert "Energy per hour [kWh]" in found
    assert "Day (Europe/Zurich)" in found


def test_dt_vs_flow(tmp_path: Path) -> None:
    idx = pd.date_range("2018-07-01", periods=500, freq="h", tz="UTC")
    rng = np.random.default_rng(1)
    flow = pd.Series(rng.uniform(0, 100, len(idx)), index=idx)
    dt = pd.Series(6.0 - flow / 40 + rng.normal(0, 0.3, len(idx)), index=idx)
    fig = plot.dt_vs_flow(dt, flow, setpoint=6.0, title="ΔT against flow: valve X")
    render(fig, tmp_path, "dt_flow")
    found = texts(fig)
    assert "ΔT against flow: valve X" in found
    assert "Relative flow [% of Vmax]" in found
    assert "ΔT [K]" in found
    assert "setpoint 6.0 K" in found
    assert "low-dT zone" in found
    sp_series = pd.Series(6.0, index=idx)
    assert "setpoint 6.0 K" in texts(plot.dt_vs_flow(dt, flow, setpoint=sp_series))


def test_fleet_status(tmp_path: Path) -> None:
    devices = pd.DataFrame(
        {
            "device_id": ["a", "b", "c"],
            "display_name": ["A", "B", "C"],
            "health_state": ["OK", "WARNING", "OK"],
            "health_description": ["", "Flow_sensor_error", ""],
            "last_seen": pd.to_datetime([NOW, NOW, NOW - pd.Timedelta(days=3)], utc=True),
        }
    )
    fig = plot.fleet_status(devices, now=NOW)
    render(fig, tmp_path, "fleet")
    found = texts(fig)
    assert "Fleet status: 3 devices" in found
    assert "online: 2" in found
    assert "offline: 1" in found
    assert "problem: 1" in found
    assert "Connectivity (seen in the last hour)" in found


def test_plot_kinds_and_bad_suffix(tmp_path: Path) -> None:
    assert set(plot.PLOTS) == {"consumption", "stacked", "heatmap", "dt-flow", "fleet"}
    fig = plot.PLOTS["consumption"](consumption(counter()))
    with pytest.raises(DataError):
        plot.save(fig, tmp_path / "figure.bmp")
    assert plot.to_png_bytes(fig).startswith(PNG_MAGIC)
    assert "<svg" in plot.to_svg_text(fig)


def test_no_pyplot_state_is_touched() -> None:
    import matplotlib

    backend = matplotlib.get_backend()
    plot.consumption_bars(consumption(counter()))
    assert matplotlib.get_backend() == backend
