"""Energy figures: consumption bars per local period, stacked per device, calendar heatmap.

Inputs are the frames of :mod:`belimo_cloud.analysis` (``consumption()`` results and the long
``energy_by_device()`` rows); every figure has a title, labelled axes and units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.errors import DataError
from belimo_cloud.plot._figure import COLORS, SERIES_COLORS, new_figure, style_axes
from belimo_cloud.units import display_unit

__all__ = ["calendar_heatmap", "consumption_bars", "period_name", "stacked_consumption"]

_CORRECTED = ("reset", "glitch", "jump", "spike", "rollover")
_MISSING = ("gap", "outage", "partial")


def period_name(index: pd.DatetimeIndex) -> str:
    """``Hour``, ``Day``, ``Week``, ``Month`` or ``Year`` from the spacing of period starts."""
    if len(index) < 2:
        return "Period"
    step = pd.Series(index).diff().median()
    hours = step / pd.Timedelta(hours=1)
    for limit, name in ((1.5, "Hour"), (36, "Day"), (24 * 8, "Week"), (24 * 32, "Month")):
        if hours <= limit:
            return name
    return "Year"


def _wall(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Local wall-clock times for the axis (matplotlib shows naive times as they are)."""
    return index.tz_localize(None) if index.tz is not None else index


def _mdates() -> Any:
    """matplotlib.dates, untyped on purpose (its date helpers lack annotations)."""
    import matplotlib.dates

    return matplotlib.dates


def _widths(wall: pd.DatetimeIndex, name: str) -> Any:
    x = _mdates().date2num(wall.to_pydatetime())
    if len(x) < 2:
        default = {"Hour": 1 / 24, "Week": 7.0, "Month": 30.0, "Year": 365.0}.get(name, 1.0)
        return np.full(len(x), 0.8 * default)
    step = np.diff(x)
    step = np.append(step, np.median(step))
    return 0.8 * step


def _thousands(ax: Any) -> None:
    """Y tick labels with thousands separators (400,000 rather than 400000)."""
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v >= 10 else f"{v:g}")
    )


def _tz_label(index: pd.DatetimeIndex) -> str:
    return f" ({index.tz})" if index.tz is not None else ""


def _date_axis(ax: Any, name: str) -> None:
    mdates = _mdates()
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    del name


def consumption_bars(
    result: pd.DataFrame | pd.Series,
    *,
    title: str | None = None,
    unit: str = "kWh",
    color: str | None = None,
    width: float = 9.0,
    height: float = 4.5,
) -> Any:
    """Bars of consumption per local period; flagged periods stand out, with a legend.

    ``result`` is the frame of :func:`belimo_cloud.analysis.consumption` (or just its
    ``consumption`` Series) indexed by local period starts; ``unit`` is what it is in.
    Periods whose quality is not ``ok`` are drawn in the flag colour (corrections: reset,
    glitch, spike, jump) or hatched (gap, outage, partial: missing data), so a user sees which
    bars to trust. With a ``flagged`` column (fleet totals from
    :func:`belimo_cloud.analysis.fleet.fleet_periods`) only that part of a bar is marked: the
    energy of the devices carrying the flag, in proportion.
    """
    frame = result.to_frame("consumption") if isinstance(result, pd.Series) else result
    if "consumption" not in frame.columns:
        raise DataError("consumption_bars needs a 'consumption' column (from consumption())")
    index = pd.DatetimeIndex(frame.index)
    quality = frame["quality"] if "quality" in frame.columns else pd.Series("ok", index=frame.index)
    name = period_name(index)
    wall = _wall(index)
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    style_axes(ax)
    values = frame["consumption"].to_numpy(dtype=float)
    base = color or COLORS["neutral"]
    q = quality.astype(str).to_numpy()
    corrected = np.array([any(f in s for f in _CORRECTED) for s in q], dtype=bool)
    missing = np.array([any(f in s for f in _MISSING) for s in q], dtype=bool)
    # The flagged part of a bar: all of it for one device; for a fleet, only the energy of
    # the devices that carry a flag (``flagged``), so one valve's glitch colours its share.
    if "flagged" in frame.columns:
        part = np.clip(frame["flagged"].to_numpy(dtype=float), 0.0, np.maximum(values, 0.0))
        part = np.where(corrected | missing, part, 0.0)
    else:
        part = np.where(corrected | missing, values, 0.0)
    widths = _widths(wall, name)
    if len(values):
        x = wall.to_pydatetime()
        ax.bar(x, values - part, width=widths, color=base, align="edge")
        colors = np.where(corrected, COLORS["flagged"], base)
        bars = ax.bar(x, part, width=widths, bottom=values - part, color=colors, align="edge")
        for bar, hatch in zip(bars, missing, strict=True):
            if hatch:
                bar.set_hatch("///")
                bar.set_edgecolor("white")
    from matplotlib.patches import Patch

    # Periods without any data (inside a gap) would be invisible zero bars: shade them.
    coverage = frame["coverage"] if "coverage" in frame.columns else None
    empty = np.zeros(len(values), dtype=bool)
    if coverage is not None:
        empty = (coverage.to_numpy(dtype=float) <= 0.0) & (values <= 0.0)
    for x, w in zip(wall[empty].to_pydatetime(), widths[empty] / 0.8, strict=True):
        start = _mdates().date2num(x)
        ax.axvspan(start, start + w, color=COLORS["gap"], alpha=0.35, linewidth=0)
    handles = [Patch(color=base, label="measured")]
    if (corrected & (part > 0)).any():
        handles.append(
            Patch(color=COLORS["flagged"], label="corrected (reset, glitch, spike, jump)")
        )
    if (missing & (part > 0)).any():
        handles.append(
            Patch(
                facecolor=base,
                hatch="///",
                edgecolor="white",
                label="incomplete (gap, outage, partial)",
            )
        )
    if empty.any():
        handles.append(Patch(color=COLORS["gap"], alpha=0.35, label="no data"))
    if len(handles) > 1:
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=len(handles),
            frameon=False,
            fontsize=9,
        )
    label = display_unit(unit)
    ax.set_ylabel(f"Energy [{label}]")
    ax.set_xlabel(f"{name}{_tz_label(index)}")
    total = float(np.nansum(values))
    ax.set_title(title or f"Consumption per {name.lower()}: {total:,.0f} {label} in total")
    _date_axis(ax, name)
    _thousands(ax)
    ax.set_ylim(bottom=0)
    return fig


def _wide(energy: pd.DataFrame, devices: pd.DataFrame | None) -> pd.DataFrame:
    needed = {"device_id", "period", "consumption"}
    if not needed <= set(energy.columns):
        raise DataError(f"stacked_consumption needs columns {sorted(needed)}")
    wide = energy.pivot_table(
        index="period", columns="device_id", values="consumption", aggfunc="sum", fill_value=0.0
    )
    if devices is not None and not devices.empty:
        names = devices.drop_duplicates("device_id").set_index("device_id")["display_name"]
        wide.columns = [str(names.get(c) or c) for c in wide.columns]
    return wide


def stacked_consumption(
    energy: pd.DataFrame,
    devices: pd.DataFrame | None = None,
    *,
    top: int = 8,
    title: str | None = None,
    unit: str = "kWh",
    width: float = 10.0,
    height: float = 5.0,
) -> Any:
    """Consumption per period stacked by device (largest ``top``, the rest as "others").

    ``energy`` has long rows ``device_id, period, consumption`` (e.g. from
    :func:`belimo_cloud.analysis.energy_by_device`) of one direction: heating and cooling are
    different quantities and are never stacked together (a ``direction`` column with both
    raises :class:`DataError`).
    """
    if "direction" in energy.columns and energy["direction"].nunique() > 1:
        raise DataError("stacked_consumption draws one direction; filter heating or cooling first")
    wide = _wide(energy, devices)
    totals = wide.sum().sort_values(ascending=False)
    keep = list(totals.index[:top])
    rest = [c for c in wide.columns if c not in keep]
    shown = wide[keep].copy()
    if rest:
        shown[f"{len(rest)} other devices"] = wide[rest].sum(axis=1)
    index = pd.DatetimeIndex(shown.index)
    name = period_name(index)
    wall = _wall(index)
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    style_axes(ax)
    bottom = np.zeros(len(shown))
    widths = _widths(wall, name)
    for i, col in enumerate(shown.columns):
        vals = shown[col].to_numpy(dtype=float)
        color = "#c8c8c8" if rest and i == len(shown.columns) - 1 else SERIES_COLORS[i % 12]
        ax.bar(
            wall.to_pydatetime(),
            vals,
            width=widths,
            bottom=bottom,
            label=col,
            color=color,
            align="edge",
        )
        bottom += vals
    label = display_unit(unit)
    ax.set_ylabel(f"Energy [{label}]")
    ax.set_xlabel(f"{name}{_tz_label(index)}")
    ax.set_title(title or f"Consumption per {name.lower()} by device")
    if len(shown.columns):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    _date_axis(ax, name)
    _thousands(ax)
    ax.set_ylim(bottom=0)
    return fig


def calendar_heatmap(
    hourly: pd.DataFrame | pd.Series,
    *,
    title: str | None = None,
    unit: str = "kWh",
    cmap: str = "YlOrRd",
    width: float = 10.0,
    height: float = 4.5,
) -> Any:
    """Energy per hour of day (rows) and local day (columns): when a valve works.

    ``hourly`` is ``consumption(..., freq="h")`` (or its ``consumption`` Series), indexed by
    local hour starts. On the fall-back day the repeated hour is summed into one cell; on the
    spring-forward day the missing hour stays empty.
    """
    series = hourly["consumption"] if isinstance(hourly, pd.DataFrame) else hourly
    index = pd.DatetimeIndex(series.index)
    wall = _wall(index)
    frame = pd.DataFrame(
        {"day": wall.normalize(), "hour": wall.hour, "value": series.to_numpy(dtype=float)}
    )
    grid = frame.pivot_table(index="hour", columns="day", values="value", aggfunc="sum")
    grid = grid.reindex(range(24))
    if len(grid.columns):
        days = pd.date_range(grid.columns.min(), grid.columns.max(), freq="D")
        grid = grid.reindex(columns=days)
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    label = display_unit(unit)
    if len(grid.columns):
        days_idx = pd.DatetimeIndex(grid.columns)
        x0 = _mdates().date2num(days_idx[0].to_pydatetime())
        x1 = _mdates().date2num(days_idx[-1].to_pydatetime()) + 1
        cells = grid.to_numpy(dtype=float)
        # A robust top of the scale: one hour that closes a gap (all of the gap's energy)
        # must not wash out every other cell; such cells show at the top colour.
        finite = cells[np.isfinite(cells)]
        vmax = float(np.percentile(finite, 99.5)) if len(finite) else None
        extend = "max" if len(finite) and vmax is not None and finite.max() > vmax else "neither"
        img = ax.imshow(
            np.ma.masked_invalid(cells),
            vmin=0.0,
            vmax=vmax,
            aspect="auto",
            origin="lower",
            extent=(x0, x1, 0, 24),
            cmap=cmap,
            interpolation="nearest",
        )
        bar = fig.colorbar(img, ax=ax, pad=0.01, extend=extend)
        bar.set_label(f"Energy per hour [{label}]")
        ax.xaxis_date()
        _date_axis(ax, "Day")
    ax.set_yticks([0, 6, 12, 18, 24])
    ax.set_ylabel("Hour of day")
    ax.set_xlabel(f"Day{_tz_label(index)}")
    ax.set_title(title or "Energy per hour of day")
    return fig
