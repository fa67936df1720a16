"""Small helpers shared by the JSON builders: local time text, display units, plain floats."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.errors import DataError
from belimo_cloud.units import convert, display_unit

__all__ = ["DISPLAY", "as_float", "display", "local_text", "parse_local"]

#: Per ``default.name``: the unit shown and whether the value is a temperature difference.
DISPLAY: dict[str, tuple[str, bool]] = {
    "Heating_E_J": ("kWh", False),
    "Cooling_E_J": ("kWh", False),
    "AbsPower_Fb_W": ("kW", False),
    "AbsFlow_Fb_m3s": ("m3/h", False),
    "RelFlow_Fb_Rel2Vmax": ("percent", False),
    "T1_remote_K": ("degC", False),
    "T2_embeded_K": ("degC", False),
    "DeltaT_K": ("K", True),
    "SpDeltaT_applied_K": ("K", True),
}

#: Human labels of the datapoints the dashboard draws.
LABELS: dict[str, str] = {
    "Heating_E_J": "Heating energy",
    "Cooling_E_J": "Cooling energy",
    "AbsPower_Fb_W": "Power",
    "AbsFlow_Fb_m3s": "Flow",
    "RelFlow_Fb_Rel2Vmax": "Relative flow",
    "T1_remote_K": "Supply temperature",
    "T2_embeded_K": "Return temperature",
    "DeltaT_K": "dT",
    "SpDeltaT_applied_K": "dT setpoint",
}


def display(values: Any, name: str, unit: str) -> tuple[Any, str]:
    """Values converted to the unit they are shown in, and that unit's label."""
    target, delta = DISPLAY.get(name, ("", False))
    if not unit or not target:
        return values, display_unit(unit)
    try:
        return convert(values, unit, target, delta=delta), display_unit(target)
    except DataError:
        return values, display_unit(unit)


def local_text(times: pd.DatetimeIndex | pd.Series[Any], tz: str) -> list[str]:
    """Times as local wall-clock text ("2018-01-01 01:00:00"), what Plotly's date axis draws."""
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        index = index.tz_localize("UTC")
    return list(index.tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S"))


def parse_local(text: str | None, tz: str) -> pd.Timestamp | None:
    """A bound from the page (local wall-clock text, or ISO with an offset) in UTC."""
    if text is None or not text.strip():
        return None
    try:
        ts = pd.Timestamp(text.strip())
    except (ValueError, TypeError) as exc:
        raise DataError(f"cannot read the time {text!r}; use e.g. 2018-01-01 00:00") from exc
    if pd.isna(ts):
        raise DataError(f"cannot read the time {text!r}; use e.g. 2018-01-01 00:00")
    ts = ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward") if ts.tz is None else ts
    return ts.tz_convert("UTC")


def as_float(value: Any, digits: int = 6) -> float | None:
    """A JSON-safe float (None for NaN, infinities and missing values)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return round(out, digits) if math.isfinite(out) else None


def floats(values: Any, digits: int = 5) -> list[float | None]:
    """An array as JSON-safe floats, rounded (NaN becomes None, which Plotly draws as a gap)."""
    arr = np.round(np.asarray(values, dtype=np.float64), digits)
    return [None if not math.isfinite(v) else float(v) for v in arr.tolist()]
