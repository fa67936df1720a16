"""Hydronic figures: dT against relative flow with the setpoint (coil behaviour, low dT)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.hydronics import delta_t_vs_flow
from belimo_cloud.plot._figure import COLORS, new_figure, style_axes

__all__ = ["dt_vs_flow"]


def _mdates() -> Any:
    """matplotlib.dates, untyped on purpose (its date helpers lack annotations)."""
    import matplotlib.dates

    return matplotlib.dates


def _dated_scatter(fig: Any, ax: Any, frame: pd.DataFrame) -> None:
    """Samples coloured by their date, with a colour bar labelled in dates."""
    mdates = _mdates()

    index = pd.DatetimeIndex(frame.index)
    wall = index.tz_localize(None) if index.tz is not None else index
    when = mdates.date2num(wall.to_pydatetime())
    points = ax.scatter(
        frame["flow"],
        frame["dt"],
        c=when,
        cmap="viridis",
        s=7,
        alpha=0.5,
        linewidths=0,
        label="samples (colour: date)",
    )
    if len(when) > 1 and when.max() > when.min():
        bar = fig.colorbar(points, ax=ax, pad=0.01)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
        bar.ax.yaxis.set_major_locator(locator)
        bar.ax.yaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        bar.set_label("Date" + (f" ({index.tz})" if index.tz is not None else ""))


def dt_vs_flow(
    dt: pd.Series[Any],
    relative_flow: pd.Series[Any],
    *,
    setpoint: float | pd.Series[Any] | None = None,
    title: str | None = None,
    min_flow: float = 5.0,
    ratio: float = 0.8,
    min_bin_samples: int = 3,
    width: float = 8.0,
    height: float = 5.0,
) -> Any:
    """Scatter of dT [K] against relative flow [% of Vmax], binned mean, setpoint line.

    Only samples with real flow (> ``min_flow`` %) are drawn, coloured by date (a colour bar
    gives the dates) so a change in the coil's behaviour over time shows. The mean per 10 %
    of flow is drawn only for bins with at least ``min_bin_samples`` samples and is broken
    across bins without them. With a setpoint, the line at the
    setpoint and the low-dT zone (dT below ``ratio`` x setpoint at flow above 50 %) are shown:
    points in that zone are the coil's low-dT hours.
    """
    frame = pd.concat({"dt": dt.astype(float), "flow": relative_flow.astype(float)}, axis=1)
    frame = frame.dropna()
    frame = frame[frame["flow"] > min_flow]
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    style_axes(ax)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.8)
    if len(frame):
        _dated_scatter(fig, ax, frame)
        binned = delta_t_vs_flow(frame["dt"], frame["flow"], min_flow=min_flow)
        # Only bins with enough samples get a mean, and the line breaks across empty bins:
        # a line through a flow range with no samples would invent the coil's behaviour there.
        binned = binned.set_index("flow_low")
        shown = binned["samples"] >= min_bin_samples
        y = binned["dt_mean"].where(shown)
        x = binned["flow_mean"].where(shown)
        ax.plot(
            x.to_numpy(dtype=float),
            y.to_numpy(dtype=float),
            color="#1b1b1b",
            marker="o",
            markersize=4,
            linewidth=1.5,
            label="mean per 10 % of flow (where sampled)",
        )
    sp_value: float | None = None
    if isinstance(setpoint, pd.Series):
        sp = setpoint.dropna()
        sp_value = float(sp.median()) if len(sp) else None
    elif setpoint is not None and np.isfinite(setpoint):
        sp_value = float(setpoint)
    if sp_value is not None:
        ax.axhline(sp_value, color=COLORS["setpoint"], linestyle="--", linewidth=1.2)
        ax.annotate(
            f"setpoint {sp_value:.1f} K",
            xy=(1.0, sp_value),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 4),
            textcoords="offset points",
            ha="right",
            fontsize=9,
        )
        ax.fill_between(
            [50.0, 105.0], 0.0, ratio * sp_value, color=COLORS["flagged"], alpha=0.15, linewidth=0
        )
        ax.annotate(
            "low-dT zone",
            xy=(0.99, ratio * sp_value),
            xycoords=("axes fraction", "data"),
            xytext=(-4, -12),
            textcoords="offset points",
            ha="right",
            fontsize=9,
            color="#8a5a00",
        )
    ax.set_xlim(0, 105)
    top = max(float(frame["dt"].quantile(0.99)) if len(frame) else 1.0, (sp_value or 0) * 1.2)
    ax.set_ylim(0, top * 1.1 if top > 0 else 1.0)
    ax.set_xlabel("Relative flow [% of Vmax]")
    ax.set_ylabel("ΔT [K]")
    ax.set_title(title or "ΔT against relative flow")
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return fig
