"""Consumption per local calendar period from cumulative counters, flagged and DST-safe.

The tutorial's ``value.diff() / 3600000`` goes negative at a meter replacement, spikes after a
zero glitch, dumps a week's gap into one bar and shifts a day at every DST change. Here the
counter is cleaned first (:mod:`belimo_cloud.analysis.counters`) into a non-decreasing curve,
and each period's consumption is the curve's rise between the period's local start and end
(linear between readings), so that:

- consumption is never negative, and days add up to their months exactly;
- an increase across a gap is kept whole and attributed to the period where the gap ends (or
  spread evenly over the gap with ``spread_gaps=True``); periods in and at the gap are flagged
  ``gap`` and their ``coverage`` is below 1;
- the first and last periods, when the data starts or ends inside them, are ``partial``.

Timestamps are readings: the value at ``t`` is the counter at ``t``. For server ``last``
buckets stamped at their start, pass ``resolution`` so each reading is placed at its bucket end.
A single reading yields one row: zero consumption, coverage 0, quality ``partial``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from datetime import tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from belimo_cloud.analysis.counters import (
    FLAG_NAMES,
    Scan,
)
from belimo_cloud.analysis.engine import (
    Duration,
    Prepared,
    bin_periods,
    prepare_frame,
    prepare_series,
    scan,
)
from belimo_cloud.errors import DataError
from belimo_cloud.units import canonical_unit, scale_factor

F64 = npt.NDArray[np.float64]

__all__ = ["COLUMNS", "QUALITY_FLAGS", "consumption", "consumption_frame"]

COLUMNS = ("consumption", "coverage", "quality")
#: Every quality flag, in the order they are listed in ``quality``.
QUALITY_FLAGS = tuple(name for _, name in FLAG_NAMES)


def _empty(tz: str | tzinfo) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "consumption": pd.Series(dtype="float64"),
            "coverage": pd.Series(dtype="float64"),
            "quality": pd.Series(dtype="object"),
        },
        index=pd.DatetimeIndex([], tz=tz, name="period").as_unit("ns"),
    )
    return frame


def check_series(counter: Any) -> pd.Series[float]:
    """The counter as a float Series (a one-column frame is accepted); DataError otherwise."""
    if isinstance(counter, pd.DataFrame):
        if counter.shape[1] != 1:
            raise DataError("consumption() takes one counter; use consumption_frame() for many")
        counter = counter.iloc[:, 0]
    if not isinstance(counter, pd.Series):
        raise DataError(f"counter must be a pandas Series, got {type(counter).__name__}")
    try:
        return counter.astype("float64")
    except (ValueError, TypeError) as exc:
        raise DataError("counter values must be numbers") from exc


def consumption(
    counter: pd.Series[Any],
    *,
    freq: str | pd.DateOffset = "D",
    tz: str | tzinfo = "Europe/Zurich",
    unit: str = "joule",
    to: str = "kWh",
    gap: Duration = None,
    spread_gaps: bool = False,
    max_power: float | None = None,
    margin: float = 1.5,
    glitch_max: int = 3,
    reset: str = "zero",
    rollover: float | None = None,
    resolution: Duration = None,
) -> pd.DataFrame:
    """Consumption per local calendar period from one cumulative counter.

    Parameters
    ----------
    counter
        Cumulative readings [``unit``] indexed by tz-aware UTC timestamps (naive = UTC).
    freq
        Period alias: ``h``, ``D``, ``W-MON``, ``MS``, ``QS``, ``YS`` (``M``/``W`` accepted).
    tz
        IANA zone of the calendar (periods start at local midnight, DST-safe).
    unit, to
        Counter unit (profile string, e.g. ``joule``) and result unit (e.g. ``kWh``).
    gap
        Longest interval without readings that is not a gap; default 1.5 x the typical step.
    spread_gaps
        Spread an increase across a gap evenly over it instead of giving it to the period
        where the gap ends.
    max_power
        Nominal power [W] when known: increases above ``max_power * dt * margin`` are
        implausible jumps, excluded from the consumption and flagged ``jump``.
    glitch_max
        Longest dip (readings) that still counts as a glitch when the counter comes back.
    reset
        After a lasting drop count the new counter from ``zero`` or from its ``first`` reading.
    rollover
        Wrap value of the counter [``unit``] (e.g. ``2**32``); a drop from near it wraps.
    resolution
        For server ``last`` buckets stamped at their start: the bucket length.

    Returns
    -------
    DataFrame indexed by ``period`` (local period starts, tz-aware in ``tz``) with
    ``consumption`` [``to``], ``coverage`` (0..1) and ``quality`` (``ok`` or a comma list of
    ``reset``, ``rollover``, ``glitch``, ``jump``, ``gap``, ``partial``). Empty input (or no
    valid reading) gives an empty frame with these columns; one reading gives one row with
    zero consumption, coverage 0 and quality ``partial``.
    """
    series = check_series(counter)
    canonical_unit(unit)
    canonical_unit(to)
    if series.empty:
        return _empty(tz)
    prep = prepare_series(series)
    sc = run_scan(
        prep,
        unit=unit,
        gap=gap,
        max_power=max_power,
        margin=margin,
        glitch_max=glitch_max,
        reset=reset,
        rollover=rollover,
        resolution=resolution,
    )
    frame = bin_periods(sc, freq=freq, tz=tz, unit=unit, to=to, spread_gaps=spread_gaps)
    if frame.empty:
        return _empty(tz)
    frame = frame.drop(columns="_group").set_index("period")
    frame.index.name = "period"
    return frame


def _rate(max_power: float | F64 | None, unit: str) -> float | F64 | None:
    """Nominal power [W] as a counter rate [counter unit / s] (J counters: the same number)."""
    if max_power is None:
        return None
    factor = scale_factor("J", unit)
    if isinstance(max_power, np.ndarray):
        return np.asarray(max_power * factor, dtype=np.float64)
    return float(max_power) * factor


def run_scan(
    prep: Prepared,
    *,
    unit: str,
    gap: Duration,
    max_power: float | F64 | None,
    margin: float,
    glitch_max: int,
    reset: str,
    rollover: float | None,
    resolution: Duration,
) -> Scan:
    """Scan prepared readings with the public options (nominal power [W] to a counter rate)."""
    return scan(
        prep,
        gap=gap,
        max_rate=_rate(max_power, unit),
        margin=margin,
        glitch_max=glitch_max,
        reset=reset,
        rollover=rollover,
        resolution=resolution,
    )


def powers(
    keys: pd.DataFrame, by: Sequence[str], max_power: float | Mapping[Hashable, float] | None
) -> float | F64 | None:
    """One nominal power [W] per group from a mapping keyed by the first ``by`` column."""
    if isinstance(max_power, Mapping):
        return np.array([max_power.get(k, np.nan) for k in keys[by[0]]], dtype=np.float64)
    return max_power


def require_columns(samples: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise DataError naming the columns long samples lack."""
    missing = [c for c in columns if c not in samples.columns]
    if missing:
        raise DataError(f"samples lack column(s) {', '.join(missing)}")


def scan_frame(
    samples: pd.DataFrame,
    by: Sequence[str],
    time: str,
    value: str,
    *,
    unit: str,
    gap: Duration,
    max_power: float | Mapping[Hashable, float] | None,
    margin: float,
    glitch_max: int,
    reset: str,
    rollover: float | None,
    resolution: Duration,
) -> tuple[Prepared, Scan]:
    """Prepare and scan many counters of long samples in one pass (the frame functions' core)."""
    prep = prepare_frame(samples, by, time, value)
    sc = run_scan(
        prep,
        unit=unit,
        gap=gap,
        max_power=powers(prep.keys, by, max_power),
        margin=margin,
        glitch_max=glitch_max,
        reset=reset,
        rollover=rollover,
        resolution=resolution,
    )
    return prep, sc


def consumption_frame(
    samples: pd.DataFrame,
    *,
    by: Sequence[str] = ("device_id", "datapoint_id"),
    time: str = "timestamp",
    value: str = "value",
    freq: str | pd.DateOffset = "D",
    tz: str | tzinfo = "Europe/Zurich",
    unit: str = "joule",
    to: str = "kWh",
    gap: Duration = None,
    spread_gaps: bool = False,
    max_power: float | Mapping[Hashable, float] | None = None,
    margin: float = 1.5,
    glitch_max: int = 3,
    reset: str = "zero",
    rollover: float | None = None,
    resolution: Duration = None,
) -> pd.DataFrame:
    """Consumption of many counters at once, from long samples, in one vectorised pass.

    ``samples`` is long format (``by`` columns, ``timestamp`` UTC, ``value`` [``unit``]);
    ``max_power`` is one nominal power [W] for all or a mapping from the first ``by`` key.
    Returns long rows: the ``by`` columns, ``period`` (local start), ``consumption`` [``to``],
    ``coverage`` and ``quality``, sorted by key then period; options as :func:`consumption`.
    """
    by = list(by)
    require_columns(samples, [*by, time, value])
    canonical_unit(unit)
    canonical_unit(to)
    columns = [*by, "period", *COLUMNS]
    if samples.empty:
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in by})
        out = pd.concat([empty, _empty(tz).reset_index()], axis=1)
        return out[columns]
    prep, sc = scan_frame(
        samples,
        by,
        time,
        value,
        unit=unit,
        gap=gap,
        max_power=max_power,
        margin=margin,
        glitch_max=glitch_max,
        reset=reset,
        rollover=rollover,
        resolution=resolution,
    )
    out = bin_periods(sc, freq=freq, tz=tz, unit=unit, to=to, spread_gaps=spread_gaps)
    if out.empty:
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in by})
        return pd.concat([empty, _empty(tz).reset_index()], axis=1)[columns]
    # Rows by key, then period: a stable sort on each group's rank among the sorted keys.
    rank = np.empty(len(prep.keys), dtype=np.int64)
    rank[prep.keys.sort_values(by, kind="stable").index.to_numpy()] = np.arange(len(prep.keys))
    out = out.iloc[np.argsort(rank[out["_group"].to_numpy()], kind="stable")]
    key_cols = prep.keys.iloc[out["_group"].to_numpy()].reset_index(drop=True)
    out = pd.concat([key_cols, out.drop(columns="_group").reset_index(drop=True)], axis=1)
    return out[columns]
