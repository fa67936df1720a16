"""Formatting helpers shared by the report's sections: times, periods, numbers, durations."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "age",
    "duration",
    "local_time",
    "missing",
    "number",
    "percent",
    "period_label",
    "png",
    "utc_iso",
    "utc_time",
]


def missing(value: Any) -> bool:
    """None, NaN and NaT."""
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def local_time(ts: Any, tz: str | tzinfo) -> str:
    """``2018-03-14 10:00 CET`` in the report's zone; empty for missing times."""
    if missing(ts):
        return ""
    t = pd.Timestamp(ts)
    if t.tz is None:
        t = t.tz_localize("UTC")
    return t.tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")


def utc_time(ts: Any) -> str:
    """``2018-03-14 09:00Z``; empty for missing times."""
    if missing(ts):
        return ""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%MZ")


def utc_iso(ts: Any) -> str:
    """``2018-03-14T09:00:00Z`` (machine-readable); empty for missing times."""
    if missing(ts):
        return ""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


_PERIOD_FORMAT = {
    "MS": "%B %Y",
    "M": "%B %Y",
    "ME": "%B %Y",
    "YS": "%Y",
    "Y": "%Y",
    "D": "%Y-%m-%d",
}


def period_label(ts: Any, freq: str) -> str:
    """A local period by name: ``January 2018`` for months, ``2018`` for years, ``2018-01-05``
    for days, ``week of 2018-01-01`` for weeks and ``2018-01-05 14:00`` for hours."""
    if missing(ts):
        return ""
    t = pd.Timestamp(ts)
    if freq.upper().startswith("W"):
        return "week of " + t.strftime("%Y-%m-%d")
    if freq.lower() == "h":
        return t.strftime("%Y-%m-%d %H:00")
    return t.strftime(_PERIOD_FORMAT.get(freq, "%Y-%m-%d"))


def number(value: Any, digits: int = 0) -> str:
    """A number with thousands separators; empty for missing or infinite values."""
    if missing(value):
        return ""
    x = float(value)
    return f"{x:,.{digits}f}" if np.isfinite(x) else ""


def percent(value: Any, digits: int = 0) -> str:
    """A share 0..1 as ``12 %``; empty for missing values."""
    if missing(value) or not np.isfinite(float(value)):
        return ""
    return f"{float(value) * 100:,.{digits}f} %"


def duration(hours: Any) -> str:
    """A duration from hours: ``45 min``, ``5.5 h``, ``3.2 days``; empty when unknown."""
    if missing(hours) or not np.isfinite(float(hours)):
        return ""
    h = float(hours)
    if h <= 0:
        return "instant"
    if h < 1:
        return f"{h * 60:.0f} min"
    if h < 48:
        return f"{h:.1f} h"
    return f"{h / 24:.1f} days"


def age(hours: Any) -> str:
    """An age in minutes, hours or days from hours; ``never seen`` for NaN."""
    if hours is None or (isinstance(hours, float) and not np.isfinite(hours)):
        return "never seen"
    h = float(hours)
    if h < 1:
        return f"{h * 60:.0f} min"
    if h < 48:
        return f"{h:.1f} h"
    return f"{h / 24:.1f} days"


def png(fig: Any) -> bytes:
    """A figure as PNG bytes."""
    from belimo_cloud.plot import to_png_bytes

    return to_png_bytes(fig)
