"""Findings as episodes: when a condition held, from when to when, and what to do about it.

A finding such as "low dT" or "flow at Vmax" is only useful with its dates: an engineer goes
to the building log for that week. :func:`condition_episodes` turns a per-sample condition
into runs with a start, an end and a duration; samples where the condition cannot be judged
(the valve is closed, say) neither break nor extend a run, and short healthy interruptions
are bridged so that one summer's syndrome is one episode, not ninety. Counter findings
(gaps, outages, glitches, spikes, resets) already have times and become episodes through
:func:`event_episodes`. Every episode carries a one-line recommendation.

Times are UTC; an episode's ``end`` is the end of its last sample (samples stand for the time
to the next one, see :func:`~belimo_cloud.analysis.hydronics.sample_hours`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from belimo_cloud.analysis.hydronics import sample_hours
from belimo_cloud.errors import DataError

__all__ = [
    "EPISODE_COLUMNS",
    "RECOMMENDATIONS",
    "condition_episodes",
    "event_episodes",
    "low_delta_t_episodes",
    "vmax_episodes",
]

EPISODE_COLUMNS = ["start", "end", "duration_h", "hours", "samples"]

#: One line per finding kind: what an engineer should do next.
RECOMMENDATIONS: dict[str, str] = {
    "low_delta_t": (
        "Check the coil and the dT setpoint; rebalance the circuit or lower Vmax so the valve "
        "stops overflowing the coil."
    ),
    "at_vmax": (
        "Check whether Vmax is set too low for the load or the coil is undersized; review the "
        "Vmax setting with the design flow."
    ),
    "gap": (
        "Check the device's connection (gateway, network) for these dates; the counter kept "
        "counting, so the energy is kept."
    ),
    "outage": (
        "The meter read zero or nothing and came back: check the device's power supply and "
        "communication; the energy across the outage is kept."
    ),
    "glitch": "One bad reading was ignored; no action unless it repeats.",
    "spike": (
        "An implausible reading was excluded from the energy; check the meter if it repeats."
    ),
    "jump": (
        "An implausible increase was excluded from the energy; check the meter if it repeats."
    ),
    "meter_replacement": (
        "Confirm the meter change in the maintenance log; counting continues from the new meter."
    ),
    "rollover": "The counter wrapped around; confirm its range in the data profile.",
    "offline": "Check the device's power and network connection; it has stopped reporting.",
    "problem": "Inspect the device on site: it reports a fault in its health state.",
}


def condition_episodes(
    condition: pd.Series[Any],
    *,
    bridge: str | pd.Timedelta = "6h",
    min_hours: float = 0.0,
) -> pd.DataFrame:
    """Runs of a per-sample condition as episodes: ``start``, ``end``, ``duration_h``, ...

    ``condition`` is indexed by UTC sample times; true (1) where the condition holds, false
    (0) where it was judged and does not hold, NaN where it cannot be judged (skipped: it neither
    breaks nor extends a run). Runs separated by judged-false samples spanning at most
    ``bridge`` are one episode. Episodes with fewer than ``min_hours`` hours in the condition
    are dropped. Columns (:data:`EPISODE_COLUMNS`): ``start`` (first sample in the
    condition), ``end`` (end of the last one), ``duration_h`` (end - start) [h], ``hours``
    in the condition [h], ``samples`` in the condition.
    """
    if not isinstance(condition, pd.Series):
        raise DataError("condition must be a pandas Series indexed by time")
    cond = condition.sort_index()
    cond = cond[~cond.index.duplicated(keep="last")]
    if cond.empty:
        return _empty()
    hours = np.asarray(sample_hours(cond.index), dtype=np.float64)
    judged = cond.notna().to_numpy()
    times = pd.DatetimeIndex(cond.index)
    times = times.tz_localize("UTC") if times.tz is None else times.tz_convert("UTC")
    true = judged & (cond.fillna(0).to_numpy(dtype=np.float64) != 0)
    limit = pd.Timedelta(bridge) / pd.Timedelta(hours=1)
    runs = _runs(hours, judged, true, limit)
    if runs is None:
        return _empty()
    first, last, in_hours, samples = runs
    added = _timedelta_ns(hours[last])
    # The unit an end takes depends on every episode's end, the ones cut below included.
    unit = _end_unit(str(times.unit), added)
    keep = in_hours >= min_hours
    start = times[first[keep]]
    end_ns = times[last[keep]].as_unit("ns").asi8 + added[keep]
    end = pd.DatetimeIndex(end_ns.view("M8[ns]"), tz=times.tz).as_unit(unit)
    return pd.DataFrame(
        {
            "start": start,
            "end": end,
            "duration_h": (end - start).total_seconds().to_numpy() / 3600.0,
            "hours": in_hours[keep],
            "samples": samples[keep],
        }
    )


def _runs(
    hours: npt.NDArray[np.float64],
    judged: npt.NDArray[np.bool_],
    true: npt.NDArray[np.bool_],
    limit: float,
) -> (
    tuple[
        npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.int64]
    ]
    | None
):
    """Each episode's first and last sample (positions), hours and samples in the condition.

    Only judged samples count. A new episode starts at the first true sample and at every true
    sample after judged-false samples worth more than ``limit`` hours; the false samples before
    the first true one and after the last one change nothing. None when nothing is true.
    """
    where = np.flatnonzero(judged)
    at = np.flatnonzero(true[where])  # the true samples among the judged ones
    if len(at) == 0:
        return None
    judged_h = hours[where]
    # The healthy samples between two true ones are a run in the judged order, summed as the
    # loop it replaces did; hours are never negative, so a running sum passes the limit iff
    # its total does.
    between = np.diff(at) - 1
    spell = _ordered_sums(judged_h, at[:-1] + 1, between)
    breaks = np.flatnonzero((between > 0) & (spell > limit)) + 1
    firsts = np.concatenate(([0], breaks))
    counts = np.diff(np.append(firsts, len(at)))
    in_hours = _ordered_sums(judged_h[at], firsts, counts)
    return where[at[firsts]], where[at[firsts + counts - 1]], in_hours, counts.astype(np.int64)


def _ordered_sums(
    values: npt.NDArray[np.float64], starts: npt.NDArray[np.intp], counts: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """Sums of ``values[s : s + c]``, each added left to right from 0.0 like a running total.

    Another summation order (pairwise in ``np.add.reduceat``, or differences of one cumulative
    sum) rounds differently where the hours are not exact binary fractions (5-minute samples,
    irregular times), and a spell just at the bridge would then split or not by the last bit.
    Runs go into rows of a zero-padded table, one table per power-of-two length class (so
    padding at most doubles the work), and ``cumsum`` adds along each row.
    """
    out = np.zeros(len(counts), dtype=np.float64)
    if len(values) == 0:
        return out
    scaled = values * 1024.0
    if np.array_equal(scaled, np.floor(scaled)) and float(scaled.sum()) < 2.0**52:
        # Whole numbers of 1/1024 h (hourly or 15-minute samples) below 2**52 of them: every
        # partial sum is exact, so any order gives the same sums.
        total = np.concatenate(([0.0], np.cumsum(values)))
        sums: npt.NDArray[np.float64] = total[starts + counts] - total[starts]
        return sums
    size = np.zeros(len(counts), dtype=np.int64)
    nonzero = counts > 0
    size[nonzero] = np.ceil(np.log2(counts[nonzero])).astype(np.int64) + 1
    for level in np.unique(size[nonzero]):
        rows = np.flatnonzero(size == level)
        width = int(counts[rows].max())
        col = np.arange(width)
        idx = starts[rows, None] + col
        inside = col < counts[rows, None]
        table = np.where(inside, values[np.where(inside, idx, 0)], 0.0)
        out[rows] = np.cumsum(table, axis=1)[:, -1]
    return out


def _timedelta_ns(hours: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """``pd.Timedelta(hours=h).value`` for each ``h``: its float arithmetic, truncated."""
    return np.trunc(hours * 3600.0 * 1_000_000_000).astype(np.int64)


Unit = Literal["s", "ms", "us", "ns"]
_UNITS: tuple[Unit, ...] = ("s", "ms", "us", "ns")


def _end_unit(unit: str, added_ns: npt.NDArray[np.int64]) -> Unit:
    """The unit a Timestamp + ``pd.Timedelta(hours=h)`` sum takes, finest over all the ends.

    A Timedelta from float hours is in microseconds when it holds whole ones, else in
    nanoseconds; a sum takes the finer unit of its two terms.
    """
    added: Unit = "us" if bool((added_ns % 1000 == 0).all()) else "ns"
    own = next(u for u in _UNITS if u == unit)
    return max(own, added, key=_UNITS.index)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": pd.Series(dtype="datetime64[ns, UTC]"),
            "end": pd.Series(dtype="datetime64[ns, UTC]"),
            "duration_h": pd.Series(dtype="float64"),
            "hours": pd.Series(dtype="float64"),
            "samples": pd.Series(dtype="int64"),
        }
    )


def _aligned(**series: pd.Series[Any]) -> pd.DataFrame:
    return pd.concat({k: v.astype("float64") for k, v in series.items()}, axis=1).sort_index()


def low_delta_t_episodes(
    dt: pd.Series[Any],
    setpoint: pd.Series[Any] | float,
    relative_flow: pd.Series[Any],
    *,
    high_flow: float = 50.0,
    min_flow: float = 5.0,
    ratio: float = 0.8,
    bridge: str | pd.Timedelta = "24h",
    min_hours: float = 12.0,
) -> pd.DataFrame:
    """Episodes of low dT at high flow (the rule of :func:`~.hydronics.low_delta_t`).

    A sample is judged when relative flow > ``high_flow`` [%] (and > ``min_flow``), and in
    the condition when dT [K] < ``ratio`` x setpoint [K]; closed or throttled hours are not
    judged, so nights do not split a summer's syndrome. See :func:`condition_episodes`.
    """
    sp = setpoint if isinstance(setpoint, pd.Series) else pd.Series(float(setpoint), index=dt.index)
    frame = _aligned(dt=dt, sp=sp, flow=relative_flow).dropna()
    high = (frame["flow"] > high_flow) & (frame["flow"] > min_flow)
    low = frame["dt"] < frame["sp"] * ratio
    judged = high.to_numpy(dtype=bool)
    cond = pd.Series(np.where(judged, low.to_numpy(dtype=np.float64), np.nan), index=frame.index)
    return condition_episodes(cond, bridge=bridge, min_hours=min_hours)


def vmax_episodes(
    relative_flow: pd.Series[Any],
    *,
    threshold: float = 98.0,
    min_flow: float = 5.0,
    bridge: str | pd.Timedelta = "24h",
    min_hours: float = 12.0,
) -> pd.DataFrame:
    """Episodes of flow at or above ``threshold`` [% of Vmax]; closed hours are not judged."""
    flow = relative_flow.astype("float64").dropna().sort_index()
    values = flow.to_numpy(dtype=np.float64)
    cond = pd.Series(
        np.where(values > min_flow, (values >= threshold).astype(np.float64), np.nan),
        index=flow.index,
    )
    return condition_episodes(cond, bridge=bridge, min_hours=min_hours)


#: Counter event kinds (analysis) -> finding kinds of the report.
_EVENT_KIND = {"reset": "meter_replacement"}


def event_episodes(events: pd.DataFrame) -> pd.DataFrame:
    """Counter findings (``counter_events_frame`` rows) as episodes with a recommendation.

    Adds ``finding`` (``reset`` is called ``meter_replacement``; other kinds keep their
    name), ``start``/``end`` (a reading's own time for instant findings), ``duration_h`` [h]
    and ``recommendation``.
    """
    need = {"time", "end", "kind"}
    if not need <= set(events.columns):
        raise DataError(f"events need columns {sorted(need)}")
    out = events.copy()
    out["finding"] = out["kind"].map(lambda k: _EVENT_KIND.get(str(k), str(k)))
    out["start"] = out["time"]
    out["end"] = out["end"].where(out["end"].notna(), out["time"])
    span = pd.to_datetime(out["end"], utc=True) - pd.to_datetime(out["start"], utc=True)
    out["duration_h"] = span.dt.total_seconds() / 3600.0
    out["recommendation"] = out["finding"].map(lambda k: RECOMMENDATIONS.get(k, ""))
    return out
