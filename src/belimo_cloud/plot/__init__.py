"""Matplotlib figures for energy valves: headless, titled, with units on every axis.

Every function returns a ``matplotlib.figure.Figure`` (built without pyplot, so no backend
is switched and nothing opens a window); :func:`save` writes it as PNG or SVG by suffix.
``PLOTS`` maps the command line's plot kinds to the functions:

=========== ================================= ==============================================
kind        function                          input
=========== ================================= ==============================================
consumption :func:`consumption_bars`          ``analysis.consumption()`` result
stacked     :func:`stacked_consumption`       long ``device_id, period, consumption`` rows
heatmap     :func:`calendar_heatmap`          ``consumption(..., freq="h")`` result
dt-flow     :func:`dt_vs_flow`                dT and relative-flow Series (+ setpoint)
fleet       :func:`fleet_status`              devices frame or ``fleet_summary()`` dict
=========== ================================= ==============================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from belimo_cloud.plot._figure import save, to_png_bytes, to_svg_text
from belimo_cloud.plot.energy import calendar_heatmap, consumption_bars, stacked_consumption
from belimo_cloud.plot.fleet import fleet_status
from belimo_cloud.plot.hydronics import dt_vs_flow

__all__ = [
    "PLOTS",
    "calendar_heatmap",
    "consumption_bars",
    "dt_vs_flow",
    "fleet_status",
    "save",
    "stacked_consumption",
    "to_png_bytes",
    "to_svg_text",
]

PLOTS: dict[str, Callable[..., Any]] = {
    "consumption": consumption_bars,
    "stacked": stacked_consumption,
    "heatmap": calendar_heatmap,
    "dt-flow": dt_vs_flow,
    "fleet": fleet_status,
}
