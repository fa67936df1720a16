"""Heating and cooling degree days per local day, month or year, and Swiss HGT 20/12.

From daily mean outdoor temperatures ``T`` [degC] (one value per local day, as
:func:`belimo_cloud.analysis.weather.daily_temperature` gives):

- HDD = sum of max(0, base - T); CDD = sum of max(0, T - cooling base) [K*d];
- HGT 20/12 (SIA 381/3, the Swiss "Heizgradtage"): on heating days, days whose mean is at or
  below the heating limit of 12 degC, sum 20 - T; other days count 0 [K*d].

Days without a temperature count nothing; ``days`` tells how many were present, so that a
month with gaps is seen as such.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from belimo_cloud.errors import DataError

__all__ = [
    "BY",
    "DEFAULT_BASE",
    "HGT_INDOOR",
    "HGT_LIMIT",
    "cdd",
    "degree_days",
    "hdd",
    "hgt",
]

F64 = npt.NDArray[np.float64]
#: Periods of :func:`degree_days`.
BY = ("day", "month", "year")
#: Default base [degC] of HDD and CDD (the European common 18 degC).
DEFAULT_BASE = 18.0
HGT_INDOOR = 20.0  # [degC]
HGT_LIMIT = 12.0  # [degC]
_PERIOD = {"month": "M", "year": "Y"}


def hdd(temperature: F64 | pd.Series[float], base: float = DEFAULT_BASE) -> F64:
    """Heating degree days of each day [K*d]: max(0, base - T)."""
    return np.maximum(0.0, base - np.asarray(temperature, dtype=np.float64))


def cdd(temperature: F64 | pd.Series[float], base: float = DEFAULT_BASE) -> F64:
    """Cooling degree days of each day [K*d]: max(0, T - base)."""
    return np.maximum(0.0, np.asarray(temperature, dtype=np.float64) - base)


def hgt(
    temperature: F64 | pd.Series[float],
    indoor: float = HGT_INDOOR,
    limit: float = HGT_LIMIT,
) -> F64:
    """Swiss heating degree days of each day [K*d]: indoor - T on days with T <= limit."""
    t = np.asarray(temperature, dtype=np.float64)
    return np.where(t <= limit, indoor - t, 0.0)


def degree_days(
    daily: pd.Series[float],
    *,
    base: float = DEFAULT_BASE,
    cooling_base: float | None = None,
    indoor: float = HGT_INDOOR,
    limit: float = HGT_LIMIT,
    by: Literal["day", "month", "year"] = "day",
) -> pd.DataFrame:
    """HDD, CDD and HGT per local day, month or year.

    ``daily`` is indexed by local midnights (tz-aware); ``base`` is the HDD base [degC] and,
    unless ``cooling_base`` is given, the CDD base too. Returns one row per period (index
    ``period``, its local start) with ``days`` (days with a temperature),
    ``mean_temperature`` [degC], ``hdd``, ``cdd`` and ``hgt`` [K*d].
    """
    if by not in BY:
        raise DataError(f"degree days by {by!r}: use one of {', '.join(BY)}")
    if not isinstance(daily.index, pd.DatetimeIndex):
        raise DataError("degree days need temperatures indexed by day")
    temps = daily.dropna().astype("float64")
    frame = pd.DataFrame(
        {
            "days": 1,
            "mean_temperature": temps.to_numpy(),
            "hdd": hdd(temps, base),
            "cdd": cdd(temps, base if cooling_base is None else cooling_base),
            "hgt": hgt(temps, indoor, limit),
        },
        index=temps.index,
    )
    if by == "day":
        out = frame
    else:
        index = pd.DatetimeIndex(temps.index)
        wall = index.tz_localize(None) if index.tz is not None else index
        starts = wall.to_period(_PERIOD[by]).start_time
        keys = starts.tz_localize(index.tz) if index.tz is not None else starts
        grouped = frame.groupby(keys)
        out = grouped.sum()
        out["mean_temperature"] = grouped["mean_temperature"].mean()
    out.index = pd.DatetimeIndex(out.index, name="period")
    return out[["days", "mean_temperature", "hdd", "cdd", "hgt"]]
