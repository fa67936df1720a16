"""What consumption() corrected in a counter, as an audit table: one row per finding.

Resets, rollovers, spikes, outages and gaps, with their times (UTC), the counter levels around
them and one sentence each, for reports and for users who want to see why a period's
consumption is what it is.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.counters import GAP, OUTAGE, RESET, ROLLOVER, SPIKE, Scan
from belimo_cloud.analysis.energy import check_series, require_columns, run_scan, scan_frame
from belimo_cloud.analysis.engine import prepare_series
from belimo_cloud.analysis.policy import (
    CounterPolicy,
    Duration,
    ResetPolicy,
    make_policy,
    to_ns,
)
from belimo_cloud.units import display_unit, scale_factor

__all__ = ["EVENT_COLUMNS", "counter_events", "counter_events_frame"]

EVENT_COLUMNS = ("time", "end", "kind", "detail", "before", "after")


_KIND_TEXT = {
    RESET: "reset",
    ROLLOVER: "rollover",
    SPIKE: "spike",
    OUTAGE: "outage",
    GAP: "gap",
}


def _level(x: float, u: str) -> str:
    return "missing" if not np.isfinite(x) else f"{x:,.1f} {u}"


def _describe(kind: int, before: float, after: float, hours: float, u: str) -> str:
    if kind == RESET:
        return (
            f"counter dropped from {before:,.1f} {u} to {after:,.1f} {u} and stayed (reset, "
            "offset or meter replacement); a new segment starts, the interval of the drop "
            "counts the surrounding rate"
        )
    if kind == ROLLOVER:
        return (
            f"counter wrapped from {before:,.1f} {u} to {after:,.1f} {u}; the range was added back"
        )
    if kind == OUTAGE:
        return (
            f"zero or missing reading(s) between levels {_level(before, u)} and "
            f"{_level(after, u)} ignored (outage); the energy across is kept"
        )
    if kind == SPIKE:
        return (
            f"implausible reading {_level(after, u)} (level before {_level(before, u)}) "
            "excluded: beyond the plausibility bound or out of line with its neighbours"
        )
    return f"no readings for {hours:,.1f} h; the increase of {after - before:,.1f} {u} is kept"


def _events_of(sc: Scan, unit: str, to: str, shift: int) -> pd.DataFrame:
    f = scale_factor(unit, to)
    ev = sc.events
    # A gap starts at the last reading before it (a bucket's end), so only its end moves back.
    start_shift = np.where(ev["kind"] == GAP, 0, shift)
    t_ns = ev["time"] - start_shift
    e_ns = ev["end"] - shift
    t = pd.DatetimeIndex(t_ns.astype("datetime64[ns]")).tz_localize("UTC")
    e = pd.DatetimeIndex(e_ns.astype("datetime64[ns]")).tz_localize("UTC")
    kinds = [_KIND_TEXT[k] for k in ev["kind"].tolist()]
    before = ev["before"] * f
    after = ev["after"] * f
    # Plain Python numbers, not Timestamps: a non-counter series has an event every few
    # readings, and building a Timestamp per event cost more than the text itself.
    hours = ((e_ns - t_ns) / 3.6e12).tolist()
    u = display_unit(to)
    details = [
        _describe(k, b, a, h, u)
        for k, b, a, h in zip(
            ev["kind"].tolist(), before.tolist(), after.tolist(), hours, strict=True
        )
    ]
    return pd.DataFrame(
        {
            "_group": ev["group"],
            "time": t,
            "end": e,
            "kind": kinds,
            "detail": details,
            "before": before,
            "after": after,
        }
    )


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": pd.Series(dtype="datetime64[ns, UTC]"),
            "end": pd.Series(dtype="datetime64[ns, UTC]"),
            "kind": pd.Series(dtype="object"),
            "detail": pd.Series(dtype="object"),
            "before": pd.Series(dtype="float64"),
            "after": pd.Series(dtype="float64"),
        }
    )


def counter_events(
    counter: pd.Series[Any],
    *,
    unit: str = "joule",
    to: str = "kWh",
    policy: CounterPolicy | None = None,
    resolution: Duration = None,
    gap: Duration = None,
    max_power: float | None = None,
    margin: float | None = None,
    glitch_max: int | None = None,
    reset: ResetPolicy | None = None,
    rollover: float | None = None,
) -> pd.DataFrame:
    """What :func:`consumption` corrected in one counter, one row per finding, by time.

    Columns: ``time`` (UTC; the reading that showed it, or the gap's start), ``end`` (the gap's
    or outage's end, else ``time``), ``kind`` (``reset``, ``rollover``, ``spike``, ``outage``,
    ``gap``), ``detail`` (one sentence), ``before`` and ``after`` [``to``] (the level before
    and the reading after). Timestamps are shifted back by ``resolution`` like the input was.
    Options as :func:`consumption`.
    """
    pol = make_policy(
        policy,
        gap=gap,
        max_power=max_power,
        margin=margin,
        glitch_max=glitch_max,
        reset=reset,
        rollover=rollover,
    )
    series = check_series(counter)
    if series.empty:
        return _empty_events()
    prep = prepare_series(series)
    sc = run_scan(prep, (), unit=unit, policy=pol, resolution=resolution)
    shift = to_ns(resolution, "resolution") or 0
    events = _events_of(sc, unit, to, shift).drop(columns="_group")
    return events.sort_values(["time", "kind"], kind="stable").reset_index(drop=True)


def counter_events_frame(
    samples: pd.DataFrame,
    *,
    by: Sequence[str] = ("device_id", "datapoint_id"),
    time: str = "timestamp",
    value: str = "value",
    unit: str = "joule",
    to: str = "kWh",
    policy: CounterPolicy | None = None,
    resolution: Duration = None,
    gap: Duration = None,
    max_power: float | Mapping[Hashable, float] | None = None,
    margin: float | None = None,
    glitch_max: int | None = None,
    reset: ResetPolicy | None = None,
    rollover: float | None = None,
) -> pd.DataFrame:
    """:func:`counter_events` for many counters in long samples, with the ``by`` columns."""
    pol = make_policy(
        policy,
        gap=gap,
        max_power=max_power,
        margin=margin,
        glitch_max=glitch_max,
        reset=reset,
        rollover=rollover,
    )
    by = list(by)
    require_columns(samples, [*by, time, value])
    columns = [*by, *EVENT_COLUMNS]
    if samples.empty:
        out = _empty_events()
        for c in reversed(by):
            out.insert(0, c, pd.Series(dtype="object"))
        return out[columns]
    prep, sc = scan_frame(samples, by, time, value, unit=unit, policy=pol, resolution=resolution)
    shift = to_ns(resolution, "resolution") or 0
    events = _events_of(sc, unit, to, shift)
    key_cols = prep.keys.iloc[events["_group"].to_numpy()].reset_index(drop=True)
    events = pd.concat([key_cols, events.drop(columns="_group")], axis=1)[columns]
    return events.sort_values([*by, "time", "kind"], kind="stable").reset_index(drop=True)
