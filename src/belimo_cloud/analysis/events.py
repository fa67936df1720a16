"""What consumption() corrected in a counter, as an audit table: one row per finding.

Resets and meter replacements, rollovers, glitches, gaps and implausible jumps, with their
times (UTC), the counter levels around them and one sentence each, for reports and for users
who want to see why a period's consumption is what it is.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.counters import GAP, GLITCH, JUMP, RESET, ROLLOVER, Scan
from belimo_cloud.analysis.energy import check_series, require_columns, run_scan, scan_frame
from belimo_cloud.analysis.engine import Duration, prepare_series, to_ns
from belimo_cloud.units import display_unit, scale_factor

__all__ = ["EVENT_COLUMNS", "counter_events", "counter_events_frame"]

EVENT_COLUMNS = ("time", "end", "kind", "detail", "before", "after")


_KIND_TEXT = {RESET: "reset", ROLLOVER: "rollover", GLITCH: "glitch", JUMP: "jump", GAP: "gap"}


def _describe(
    kind: int, before: float, after: float, span: tuple[pd.Timestamp, pd.Timestamp], to: str
) -> str:
    u = display_unit(to)
    if kind == RESET:
        return (
            f"counter dropped from {before:,.1f} {u} to {after:,.1f} {u} "
            "(reset or meter replacement); counting continues from the new meter"
        )
    if kind == ROLLOVER:
        return (
            f"counter wrapped from {before:,.1f} {u} to {after:,.1f} {u}; the range was added back"
        )
    if kind == GLITCH:
        shown = "missing" if not np.isfinite(after) else f"{after:,.1f} {u}"
        level = "" if not np.isfinite(before) else f" (level {before:,.1f} {u})"
        return f"reading {shown}{level} ignored: the counter came back to its level"
    if kind == JUMP:
        return f"implausible increase of {after:,.1f} {u} excluded (above nominal power)"
    hours = (span[1] - span[0]) / pd.Timedelta(hours=1)
    return f"no readings for {hours:,.1f} h; the increase of {after - before:,.1f} {u} is kept"


def _events_of(sc: Scan, unit: str, to: str, shift: int) -> pd.DataFrame:
    f = scale_factor(unit, to)
    ev = sc.events
    # A gap starts at the last reading before it (a bucket's end), so only its end moves back.
    start_shift = np.where(ev["kind"] == GAP, 0, shift)
    t = pd.DatetimeIndex((ev["time"] - start_shift).astype("datetime64[ns]")).tz_localize("UTC")
    e = pd.DatetimeIndex((ev["end"] - shift).astype("datetime64[ns]")).tz_localize("UTC")
    kinds = [_KIND_TEXT[int(k)] for k in ev["kind"]]
    before = ev["before"] * f
    after = ev["after"] * f
    details = [
        _describe(int(k), float(b), float(a), (ts, te), to)
        for k, b, a, ts, te in zip(ev["kind"], before, after, t, e, strict=True)
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
    gap: Duration = None,
    max_power: float | None = None,
    margin: float = 1.5,
    glitch_max: int = 3,
    reset: str = "zero",
    rollover: float | None = None,
    resolution: Duration = None,
) -> pd.DataFrame:
    """What :func:`consumption` corrected in one counter, one row per finding, by time.

    Columns: ``time`` (UTC; the reading that showed it, or the gap's start), ``end`` (the gap's
    end, else ``time``), ``kind`` (``reset``, ``rollover``, ``glitch``, ``jump``, ``gap``),
    ``detail`` (one sentence), ``before`` and ``after`` [``to``] (level before and reading after;
    for a jump, ``after`` is the excluded increase). Timestamps are shifted back by
    ``resolution`` like the input was.
    """
    series = check_series(counter)
    if series.empty:
        return _empty_events()
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
    gap: Duration = None,
    max_power: float | Mapping[Hashable, float] | None = None,
    margin: float = 1.5,
    glitch_max: int = 3,
    reset: str = "zero",
    rollover: float | None = None,
    resolution: Duration = None,
) -> pd.DataFrame:
    """:func:`counter_events` for many counters in long samples, with the ``by`` columns."""
    by = list(by)
    require_columns(samples, [*by, time, value])
    columns = [*by, *EVENT_COLUMNS]
    if samples.empty:
        out = _empty_events()
        for c in reversed(by):
            out.insert(0, c, pd.Series(dtype="object"))
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
    shift = to_ns(resolution, "resolution") or 0
    events = _events_of(sc, unit, to, shift)
    key_cols = prep.keys.iloc[events["_group"].to_numpy()].reset_index(drop=True)
    events = pd.concat([key_cols, events.drop(columns="_group")], axis=1)[columns]
    return events.sort_values([*by, "time", "kind"], kind="stable").reset_index(drop=True)
