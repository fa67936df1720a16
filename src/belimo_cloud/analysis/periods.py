"""Local calendar periods (hours, days, weeks, months, years) as UTC boundaries, DST-safe.

A Zurich day starts at 23:00Z in winter and 22:00Z in summer and lasts 23 or 25 hours on the
DST days; computing the boundaries in the local wall clock and converting each one to UTC is
what makes daily and monthly energy right.
"""

from __future__ import annotations

from datetime import tzinfo

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.tseries.frequencies import to_offset

from belimo_cloud.errors import DataError

__all__ = ["normalize_freq", "period_bounds", "period_index"]

# Offsets that end their periods (month end, year end) are mapped to the ones that start them:
# results are labelled by the start of each local period.
_START_ALIASES = {
    "M": "MS",
    "ME": "MS",
    "Y": "YS",
    "YE": "YS",
    "A": "YS",
    "Q": "QS",
    "QE": "QS",
    "W": "W-MON",
    "WEEK": "W-MON",
    "DAY": "D",
    "HOUR": "h",
    "MONTH": "MS",
    "YEAR": "YS",
    "H": "h",
}


def normalize_freq(freq: str | pd.DateOffset) -> pd.DateOffset:
    """A pandas offset for a period alias (``h``, ``D``, ``W-MON``, ``MS``, ``YS`` ...).

    End-anchored aliases (``M``, ``ME``, ``Y``) become their start-anchored twins, ``W``
    becomes ISO weeks (``W-MON``) and the words ``hour``/``day``/``week``/``month``/``year``
    are accepted. Raises DataError for anything pandas does not understand.
    """
    if isinstance(freq, str):
        key = freq.strip()
        freq = _START_ALIASES.get(key.upper(), _START_ALIASES.get(key, key))
    try:
        offset = to_offset(freq)
    except (ValueError, TypeError) as exc:
        raise DataError(f"unknown period {freq!r}; use h, D, W-MON, MS, QS or YS") from exc
    if offset is None:
        raise DataError(f"unknown period {freq!r}; use h, D, W-MON, MS, QS or YS")
    return offset  # type: ignore[return-value]


def _is_tick(offset: pd.DateOffset) -> bool:
    return isinstance(offset, pd.offsets.Tick)


def _localize(naive: pd.DatetimeIndex, tz: str | tzinfo) -> pd.DatetimeIndex:
    # A period start on a non-existent local time (midnight DST in some zones) moves forward;
    # an ambiguous one takes the first occurrence (the daylight-saving one).
    return naive.tz_localize(
        tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )


def period_bounds(
    first: pd.Timestamp, last: pd.Timestamp, freq: str | pd.DateOffset, tz: str | tzinfo
) -> tuple[pd.DatetimeIndex, npt.NDArray[np.int64]]:
    """Starts of the local periods from the one holding ``first`` to the one holding ``last``.

    Returns the starts (tz-aware in ``tz``) and the UTC boundaries in epoch nanoseconds
    (``len(starts) + 1`` values: each start, then the end of the last period).
    """
    offset = normalize_freq(freq)
    first_local = pd.Timestamp(first).tz_convert(tz)
    last_local = pd.Timestamp(last).tz_convert(tz)
    if _is_tick(offset):
        # Fixed-length periods (hours, minutes) are counted in elapsed time: a 25-hour day
        # has 25 hourly periods, with 02:00 twice (+02:00 and +01:00).
        step = pd.Timedelta(offset).value  # type: ignore[arg-type]
        offset_ns = first_local.utcoffset()
        shift = 0 if offset_ns is None else int(pd.Timedelta(offset_ns).value)
        lo = (first_local.value + shift) // step * step - shift
        hi = (last_local.value + shift) // step * step - shift + step
        bounds = np.arange(lo, hi + 1, step, dtype=np.int64)
        starts = pd.DatetimeIndex(bounds[:-1].astype("datetime64[ns]")).tz_localize("UTC")
        return starts.tz_convert(tz), bounds
    day0 = first_local.tz_localize(None).normalize()
    day1 = last_local.tz_localize(None).normalize()
    p0 = offset.rollback(day0)
    p_end = offset.rollforward(day1 + pd.Timedelta(days=1))
    naive = pd.date_range(p0, p_end, freq=offset)
    if len(naive) < 2 or naive[-1] <= day1:
        naive = pd.DatetimeIndex([*naive, naive[-1] + offset])
    local = _localize(pd.DatetimeIndex(naive), tz)
    bounds = local.tz_convert("UTC").as_unit("ns").asi8.astype(np.int64)
    # Drop trailing periods that start after ``last`` (rollforward may overshoot by one).
    keep = int(np.searchsorted(bounds, last_local.value, side="right"))
    keep = max(keep, 1)
    bounds = bounds[: keep + 1]
    return local[:keep], bounds


def period_index(
    times_ns: npt.NDArray[np.int64], bounds: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """The period holding each time: ``bounds[i] <= t < bounds[i + 1]`` (-1 before, n after)."""
    return np.searchsorted(bounds, times_ns, side="right") - 1
