"""Measurement-and-verification figures: the energy signature with its fitted model, and
cumulative savings over the reporting period.

Inputs are the frames of :mod:`belimo_cloud.analysis.baseline` (paired days with
``temperature`` [degC] and ``energy`` [kWh/d]; :func:`cumulative_savings` rows) and a fitted
:class:`~belimo_cloud.analysis.mv_models.ChangePointModel`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.mv_daytypes import ALL, WEEKEND, Baseline, as_baseline
from belimo_cloud.analysis.mv_models import ChangePointModel
from belimo_cloud.errors import DataError
from belimo_cloud.plot._figure import COLORS, new_figure, style_axes

__all__ = ["cumulative_savings_plot", "energy_signature"]


def _model_label(name: str, model: ChangePointModel) -> str:
    parts = [f"{model.form} model" if name == ALL else f"{name}s: {model.form} model"]
    if model.form in ("heating", "heating_cooling"):
        parts.append(f"{model.heating_slope:.3g} kWh/K·d below {model.heating_balance:.1f} °C")
    if model.form in ("cooling", "heating_cooling"):
        parts.append(f"{model.cooling_slope:.3g} kWh/K·d above {model.cooling_balance:.1f} °C")
    return ", ".join(parts)


def energy_signature(
    baseline: pd.DataFrame,
    model: Baseline | ChangePointModel,
    *,
    reporting: pd.DataFrame | None = None,
    title: str = "Energy signature",
) -> Any:
    """kWh per day against daily mean outdoor temperature, with the baseline model's line.

    ``baseline`` (and ``reporting``, drawn in a second colour) hold ``temperature`` and
    ``energy`` columns, one row per day. A baseline split by day type draws one line per
    type (workdays solid, weekends dashed). Returns a matplotlib Figure.
    """
    fitted = as_baseline(model)
    if baseline.empty:
        raise DataError("an energy signature needs baseline days")
    fig = new_figure(7.5, 5.0)
    ax = fig.add_subplot()
    style_axes(ax)
    days = [(baseline, "neutral", "baseline days")]
    if reporting is not None and not reporting.empty:
        days.append((reporting, "heating", "reporting days"))
    for frame, color, label in days:
        ax.scatter(
            frame["temperature"],
            frame["energy"],
            s=9,
            alpha=0.55,
            color=COLORS[color],
            label=label,
            linewidths=0,
        )
    lows = [float(frame["temperature"].min()) for frame, _, _ in days]
    highs = [float(frame["temperature"].max()) for frame, _, _ in days]
    grid = np.linspace(min(lows), max(highs), 200)
    for name, part in fitted.segments:
        ax.plot(
            grid,
            part.predict(grid),
            color=COLORS["setpoint"],
            lw=2,
            ls="--" if name == WEEKEND else "-",
            label=_model_label(name, part),
        )
        for balance in (part.heating_balance, part.cooling_balance):
            if math.isfinite(balance):
                ax.axvline(balance, color=COLORS["gap"], lw=1, ls=":")
    ax.plot([], [], " ", label=f"R² {fitted.r2:.3f}, CV(RMSE) {fitted.cvrmse:.1%}")
    ax.set_xlabel("Daily mean outdoor temperature [°C]")
    ax.set_ylabel("Energy [kWh/day]")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def cumulative_savings_plot(
    daily: pd.DataFrame,
    *,
    uncertainty: float | None = None,
    title: str = "Cumulative savings",
) -> Any:
    """Avoided energy [kWh] summed over the reporting days (``cumulative`` column of
    :func:`~belimo_cloud.analysis.baseline.cumulative_savings`), with the final interval
    ``± uncertainty`` [kWh] grown as the square root of elapsed days when given."""
    if daily.empty or "cumulative" not in daily.columns:
        raise DataError("cumulative savings need reporting days with a 'cumulative' column")
    index = pd.DatetimeIndex(daily.index)
    wall = index.tz_localize(None) if index.tz is not None else index
    values = daily["cumulative"].to_numpy(np.float64)
    fig = new_figure(9.0, 4.5)
    ax = fig.add_subplot()
    style_axes(ax)
    ax.plot(wall, values, color=COLORS["ok"], lw=2, label="avoided energy")
    if uncertainty is not None and math.isfinite(uncertainty):
        share = np.sqrt(np.arange(1, len(values) + 1) / len(values))
        ax.fill_between(
            wall,
            values - uncertainty * share,
            values + uncertainty * share,
            color=COLORS["ok"],
            alpha=0.15,
            label="uncertainty",
        )
    ax.axhline(0.0, color=COLORS["setpoint"], lw=0.8)
    ax.set_xlabel("Reporting day")
    ax.set_ylabel("Cumulative savings [kWh]")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig
