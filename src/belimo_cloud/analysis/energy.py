"""Consumption per local calendar period from cumulative counters, flagged and DST-safe.

The tutorial's ``value.diff() / 3600000`` goes negative at a meter replacement, spikes after a
zero glitch, dumps a week's gap into one bar and shifts a day at every DST change. Here the
counter is cleaned first (:mod:`belimo_cloud.analysis.counters`) into a non-decreasing curve,
and each period's consumption is the curve's rise between the period's local start and end
(linear between readings), so that:

- consumption is never negative, and days add up to their months exactly;
- the rise between two readings that straddle a period boundary is split in proportion to
  time; across a gap (an interval clearly longer than the series' cadence) it is kept whole
  and given to the period where the gap ends (or spread over it with ``spread_gaps``);
- zero or missing readings that come back to the level (an *outage*), implausible readings
  (a *spike*, above the plausibility bound) and lasting drops (a *reset*) never add or lose
  more than one interval's energy; see :class:`~belimo_cloud.analysis.policy.CounterPolicy`.

Quality flags (``quality`` is ``ok`` or a comma list, in this order): ``reset`` (a lasting
drop: a new segment, its interval estimated from the surrounding rate), ``rollover`` (the
counter wrapped), ``spike`` (a reading or step beyond the plausibility bound, or a lone
reading out of line with its neighbours: excluded), ``outage`` (zero or missing readings:
ignored, the energy across them attributed like a gap's), ``gap`` (part of the period had no
readings: ``coverage`` < 1) and ``partial`` (the data starts or ends inside the period).

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

from belimo_cloud.analysis.binning import bin_periods
from belimo_cloud.analysis.counters import FLAG_NAMES, Scan
from belimo_cloud.analysis.engine import Prepared, prepare_frame, prepare_series, scan
from belimo_cloud.analysis.policy import CounterPolicy, Duration, ResetPolicy, make_policy
from belimo_cloud.errors import DataError
from belimo_cloud.units import canonical_unit, scale_factor

F64 = npt.NDArray[np.float64]

__all__ = [
    "COLUMNS",
    "QUALITY_FLAGS",
    "CounterPolicy",
    "consumption",
    "consumption_frame",
]

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
    policy: CounterPolicy | None = None,
    resolution: Duration = None,
    gap: Duration = None,
    spread_gaps: bool | None = None,
    max_power: float | None = None,
    margin: float | None = None,
    glitch_max: int | None = None,
    reset: ResetPolicy | None = None,
    rollover: float | None = None,
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
    policy
        How the counter is read (:class:`CounterPolicy`); the default derives a plausibility
        bound and the gap threshold from the series itself.
    resolution
        For server ``last`` buckets stamped at their start: the bucket length.
    gap, spread_gaps, max_power, margin, glitch_max, reset, rollover
        Shortcuts for the same fields of ``policy`` (``reset`` is ``reset_policy``); each one
        given overrides the policy's. ``max_power`` is the nominal power [W].

    Returns
    -------
    DataFrame indexed by ``period`` (local period starts, tz-aware in ``tz``) with
    ``consumption`` [``to``], ``coverage`` (0..1: share of the period not in a gap nor before
    the first or after the last reading) and ``quality`` (``ok`` or a comma list of
    ``reset``, ``rollover``, ``spike``, ``outage``, ``gap``, ``partial``). Empty input (or no
    valid reading) gives an empty frame with these columns; one reading gives one row with
    zero consumption, coverage 0 and quality ``partial``.
    """
    pol = make_policy(
        policy,
        gap=gap,
        spread_gaps=spread_gaps,
        max_power=max_power,
        margin=margin,
        glitch_max=glitch_max,
        reset=reset,
        rollover=rollover,
    )
    series = check_series(counter)
    canonical_unit(unit)
    canonical_unit(to)
    if series.empty:
        return _empty(tz)
    prep = prepare_series(series)
    sc = run_scan(prep, (), unit=unit, policy=pol, resolution=resolution)
    periods = bin_periods(sc, freq=freq, tz=tz, unit=unit, to=to, spread_gaps=pol.spread_gaps)
    if not len(periods):
        return _empty(tz)
    frame = periods.frame().set_index("period")
    frame.index.name = "period"
    return frame


def _rates(prep: Prepared, by: Sequence[str], policy: CounterPolicy, unit: str) -> F64 | None:
    """Nominal power [W] per group as a counter rate [unit / s]; NaN where unknown."""
    power = policy.max_power
    if power is None:
        return None
    try:
        factor = scale_factor("J", unit)
    except DataError:
        factor = 1.0  # not an energy counter: the bound is given in its own unit per second
    n = len(prep.starts) - 1
    if isinstance(power, Mapping):
        if not by:
            raise DataError("max_power per key needs samples grouped by that key")
        keys = prep.keys[by[0]]
        values = np.array([power.get(k, np.nan) for k in keys], dtype=np.float64)
    else:
        values = np.full(n, float(power))
    return np.asarray(values * factor, dtype=np.float64)


def run_scan(
    prep: Prepared,
    by: Sequence[str],
    *,
    unit: str,
    policy: CounterPolicy,
    resolution: Duration,
) -> Scan:
    """Scan prepared readings with a policy (nominal power [W] to a counter rate)."""
    return scan(prep, policy=policy, max_rate=_rates(prep, by, policy, unit), resolution=resolution)


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
    policy: CounterPolicy,
    resolution: Duration,
) -> tuple[Prepared, Scan]:
    """Prepare and scan many counters of long samples in one pass (the frame functions' core)."""
    prep = prepare_frame(samples, by, time, value)
    return prep, run_scan(prep, by, unit=unit, policy=policy, resolution=resolution)


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
    policy: CounterPolicy | None = None,
    resolution: Duration = None,
    gap: Duration = None,
    spread_gaps: bool | None = None,
    max_power: float | Mapping[Hashable, float] | None = None,
    margin: float | None = None,
    glitch_max: int | None = None,
    reset: ResetPolicy | None = None,
    rollover: float | None = None,
) -> pd.DataFrame:
    """Consumption of many counters at once, from long samples, in one vectorised pass.

    ``samples`` is long format (``by`` columns, ``timestamp`` UTC, ``value`` [``unit``]);
    ``max_power`` (or ``policy.max_power``) is one nominal power [W] for all or a mapping
    from the first ``by`` key. Returns long rows: the ``by`` columns, ``period`` (local
    start), ``consumption`` [``to``], ``coverage`` and ``quality``, sorted by key then
    period; options and flags as :func:`consumption`.
    """
    pol = make_policy(
        policy,
        gap=gap,
        spread_gaps=spread_gaps,
        max_power=max_power,
        margin=margin,
        glitch_max=glitch_max,
        reset=reset,
        rollover=rollover,
    )
    by = list(by)
    require_columns(samples, [*by, time, value])
    canonical_unit(unit)
    canonical_unit(to)
    columns = [*by, "period", *COLUMNS]
    if samples.empty:
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in by})
        out = pd.concat([empty, _empty(tz).reset_index()], axis=1)
        return out[columns]
    prep, sc = scan_frame(samples, by, time, value, unit=unit, policy=pol, resolution=resolution)
    periods = bin_periods(sc, freq=freq, tz=tz, unit=unit, to=to, spread_gaps=pol.spread_gaps)
    if not len(periods):
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in by})
        return pd.concat([empty, _empty(tz).reset_index()], axis=1)[columns]
    # Rows by key, then period: a stable sort on each group's rank among the sorted keys
    # (none when the keys came sorted, as the store hands them).
    n_keys = len(prep.keys)
    rank = np.empty(n_keys, dtype=np.int64)
    rank[prep.keys.sort_values(by, kind="stable").index.to_numpy()] = np.arange(n_keys)
    group = periods.group
    rows: npt.NDArray[np.intp] | slice = slice(None)
    if not (np.diff(rank) > 0).all():
        rows = np.argsort(rank[group], kind="stable")
        group = group[rows]
    key_cols = prep.keys.iloc[group].reset_index(drop=True)
    data: dict[str, Any] = {c: key_cols[c] for c in by}
    data["period"] = periods.period[rows]
    data["consumption"] = periods.consumption[rows]
    data["coverage"] = periods.coverage[rows]
    data["quality"] = periods.quality[rows]
    return pd.DataFrame(data)[columns]
