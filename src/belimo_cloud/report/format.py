"""Formatting helpers shared by the report's sections: times, numbers, tags, figures."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.report.html import esc

__all__ = ["age", "local_time", "number", "png", "tag", "utc_time"]


def local_time(ts: Any, tz: str | tzinfo) -> str:
    """``2018-03-14 10:00 CET`` in the report's zone; empty for missing times."""
    if ts is None or ts is pd.NaT or (isinstance(ts, float) and np.isnan(ts)):
        return ""
    t = pd.Timestamp(ts)
    if t.tz is None:
        t = t.tz_localize("UTC")
    return t.tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")


def utc_time(ts: Any) -> str:
    """``2018-03-14 09:00Z``; empty for missing times."""
    if ts is None or ts is pd.NaT:
        return ""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%MZ")


def number(digits: int = 0) -> Any:
    """A cell formatter with thousands separators; empty for NaN."""

    def fmt(value: Any) -> str:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return ""
        return f"{float(value):,.{digits}f}"

    return fmt


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


def tag(text: str, level: str) -> str:
    """A small coloured label (level ``bad``, ``warn`` or ``ok``)."""
    return f'<span class="tag {level}">{esc(text)}</span>'


def png(fig: Any) -> bytes:
    """A figure as PNG bytes."""
    from belimo_cloud.plot import to_png_bytes

    return to_png_bytes(fig)
