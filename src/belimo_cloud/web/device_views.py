"""What a device page shows: reduced time series, energy per period, dT-flow, timeline.

Series are cut to the window asked for and reduced on the server (min/max per pixel bucket,
:mod:`.reduce`), so a year at 15 minutes travels as a few thousand points and zooming in
fetches the finer detail of the new window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.fleet import energy_by_device
from belimo_cloud.report.findings import LABELS as FINDING_LABELS
from belimo_cloud.web.data import COUNTERS, Snapshot
from belimo_cloud.web.fleet_views import PERIODS, energy_chart, period_energy
from belimo_cloud.web.reduce import minmax_reduce, thin
from belimo_cloud.web.shapes import LABELS, as_float, display, floats, local_text

__all__ = ["CHARTS", "device_energy", "device_scatter", "device_series", "device_timeline"]

#: The time-series charts of a device page and the datapoints each draws.
CHARTS: dict[str, tuple[str, ...]] = {
    "power": ("AbsPower_Fb_W",),
    "flow": ("AbsFlow_Fb_m3s",),
    "temperatures": ("T1_remote_K", "T2_embeded_K"),
    "dt": ("DeltaT_K", "SpDeltaT_applied_K"),
}
MAX_WIDTH = 4000


def device_series(
    snap: Snapshot,
    device_id: str,
    names: list[str],
    *,
    tz: str,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    width: int = 1200,
) -> dict[str, Any]:
    """Each datapoint in [start, end), reduced to about ``width`` buckets, in display units."""
    frame = snap.device(device_id)
    buckets = max(50, min(int(width), MAX_WIDTH))
    out: dict[str, Any] = {"device_id": device_id, "series": {}}
    for name in names:
        series = frame.series(name)
        if start is not None:
            series = series[series.index >= start]
        if end is not None:
            series = series[series.index < end]
        values, unit = display(series.to_numpy(dtype=np.float64), name, frame.unit(name))
        index = pd.DatetimeIndex(series.index)
        epoch = index.asi8 if len(index) else np.empty(0, dtype=np.int64)
        keep = minmax_reduce(epoch.astype(np.int64), np.asarray(values, dtype=np.float64), buckets)
        res = frame.resolution(name)
        out["series"][name] = {
            "label": LABELS.get(name, name),
            "unit": unit,
            "x": local_text(index[keep], tz),
            "y": floats(np.asarray(values)[keep], 4),
            "points": len(series),
            "shown": len(keep),
            "resolution": str(res) if res is not None else None,
        }
    return out


def device_energy(snap: Snapshot, device_id: str, by: str, tz: str) -> dict[str, Any]:
    """The device's energy per local hour, day, week or month, per direction, with flags."""
    frame = snap.device(device_id)
    counters = frame.samples[frame.samples["name"].isin(list(COUNTERS))]
    if counters.empty:
        return energy_chart(None, by, tz)
    res = frame.resolution(str(counters["name"].iloc[0]))
    named = counters.assign(device_id=device_id)
    hourly = energy_by_device(named, freq=PERIODS["hour"], tz=tz, resolution=res)
    if by == "hour":
        table = hourly.assign(
            flagged=np.where(hourly["quality"].astype(str) != "ok", hourly["consumption"], 0.0)
        )
    else:
        table = period_energy(hourly, by, tz)
    return energy_chart(table, by, tz)


def device_scatter(snap: Snapshot, device_id: str, tz: str, limit: int = 4000) -> dict[str, Any]:
    """dT against flow, one point per common timestamp, coloured by time (days since start)."""
    frame = snap.device(device_id)
    flow, dt = frame.series("AbsFlow_Fb_m3s"), frame.series("DeltaT_K")
    both = pd.concat([flow.rename("flow"), dt.rename("dt")], axis=1, join="inner").dropna()
    if both.empty:
        return {"device_id": device_id, "x": [], "y": [], "t": [], "c": [], "points": 0}
    keep = thin(len(both), limit)
    both = both.iloc[keep]
    x, x_unit = display(both["flow"].to_numpy(), "AbsFlow_Fb_m3s", frame.unit("AbsFlow_Fb_m3s"))
    y, y_unit = display(both["dt"].to_numpy(), "DeltaT_K", frame.unit("DeltaT_K"))
    days = (both.index - both.index[0]) / pd.Timedelta(days=1)
    return {
        "device_id": device_id,
        "x": floats(x, 4),
        "y": floats(y, 3),
        "x_unit": x_unit,
        "y_unit": y_unit,
        "t": local_text(pd.DatetimeIndex(both.index), tz),
        "c": floats(np.asarray(days), 2),
        "points": len(keep),
    }


def device_timeline(snap: Snapshot, device_id: str, tz: str) -> dict[str, Any]:
    """The device's findings and counter events as dated items (local times) with advice."""
    findings = snap.fleet.findings
    rows = findings[findings["device_id"] == device_id]
    items = []
    for r in rows.to_dict("records"):
        start, end = r["start"], r["end"]
        dated = start is not None and pd.notna(start)
        stop = end if end is not None and pd.notna(end) else start
        kind = str(r["finding"])
        items.append(
            {
                "finding": kind,
                "label": FINDING_LABELS.get(kind, kind.replace("_", " ").capitalize()),
                "direction": str(r["direction"] or ""),
                "start": local_text(pd.DatetimeIndex([start]), tz)[0] if dated else None,
                "end": local_text(pd.DatetimeIndex([stop]), tz)[0] if dated else None,
                "duration_h": as_float(r["duration_h"], 1),
                "detail": str(r["detail"] or ""),
                "recommendation": str(r["recommendation"] or ""),
            }
        )
    return {"device_id": device_id, "items": items}
