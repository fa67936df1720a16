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
from belimo_cloud.plot._figure import COLORS

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
    c.iloc[150:] = c.iloc[150:] - c.iloc[150] + 1e6  # a meter replacement: corrected
    c = c.drop(c.index[100:130])  # a gap: incomplete
    fig = plot.consumption_bars(consumption(c), title="Heating energy per day")
    render(fig, tmp_path, "consumption")
    found = texts(fig)
    assert "Heating energy per day" in found
    assert "Energy [kWh]" in found
    assert "Day (Europe/Zurich)" in found
    assert "corrected (reset, glitch, spike, jump)" in found
    assert "no data" in found or "incomplete (gap, outage, partial)" in found
    auto = plot.consumption_bars(consumption(counter(), freq="MS")["consumption"], unit="MWh")
    assert "Energy [MWh]" in texts(auto)
    with pytest.raises(DataError):
        plot.consumption_bars(pd.DataFrame({"x": [1.0]}))


def bar_parts(fig: Any) -> list[tuple[float, float, str]]:
    """(bottom, height, colour) of every bar patch, in drawing order."""
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    ax = fig.axes[0]
    return [
        (p.get_y(), p.get_height(), to_hex(p.get_facecolor()))
        for p in ax.patches
        if isinstance(p, Rectangle)
    ]


def test_fleet_bars_mark_flags_in_proportion() -> None:
    periods = pd.date_range("2018-01-01", periods=3, freq="MS", tz="Europe/Zurich")
    fleet = pd.DataFrame(
        {
            "consumption": [1000.0, 1200.0, 900.0],
            "coverage": [1.0, 1.0, 1.0],
            "quality": ["glitch 1/12", "ok", "ok"],
            "flagged": [40.0, 0.0, 0.0],  # the one valve with the glitch used 40 kWh
        },
        index=periods,
    )
    fig = plot.consumption_bars(fleet)
    flagged = COLORS["flagged"]
    marked = [(b, h) for b, h, c in bar_parts(fig) if c == flagged and h > 0]
    assert marked == [(960.0, 40.0)]
    # Without a ``flagged`` column (one device), the whole flagged bar is marked.
    one = plot.consumption_bars(fleet.drop(columns="flagged"))
    assert [(b, h) for b, h, c in bar_parts(one) if c == flagged and h > 0] == [(0.0, 1000.0)]


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
    both = pd.concat([long_energy(), long_energy().assign(direction="cooling")])
    with pytest.raises(DataError, match="one direction"):
        plot.stacked_consumption(both, devices)


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


def test_dt_vs_flow_colours_by_date_and_draws_the_mean_only_where_sampled() -> None:
    idx = pd.date_range("2018-07-01", periods=400, freq="h", tz="UTC")
    rng = np.random.default_rng(2)
    # Samples only at 10-30 % and 70-90 % of flow: nothing in between.
    low = rng.uniform(10, 30, len(idx))
    high = rng.uniform(70, 90, len(idx))
    flow = pd.Series(np.where(np.arange(len(idx)) % 2 == 0, low, high), index=idx)
    dt = pd.Series(6.0 - flow / 40, index=idx)
    fig = plot.dt_vs_flow(dt, flow, setpoint=6.0)
    ax = fig.axes[0]
    points = ax.collections[0]
    colours = points.get_array()
    assert colours is not None and len(set(np.round(colours, 6))) > 100  # one colour per date
    assert len(fig.axes) == 2  # the date colour bar
    assert "Date (UTC)" in texts(fig)
    line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("mean per 10 %"))
    x = np.asarray(line.get_xdata(), dtype=float)
    drawn = x[np.isfinite(x)]
    assert len(drawn) == 4  # bins 10-20, 20-30, 70-80, 80-90
    assert not ((drawn > 30) & (drawn < 70)).any()
    # The line is broken between 30 % and 70 %: a NaN sits between the two groups.
    between = np.flatnonzero(np.isfinite(x))
    assert between[2] - between[1] > 1


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
