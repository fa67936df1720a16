"""A device's current state for its page: live values when the stream has them, else stored.

Raw values arrive by datapoint id; the page shows them by name, in display units (kW, m³/h,
°C, K, kWh), with the time they were taken and where they came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from belimo_cloud.web.data import Snapshot
from belimo_cloud.web.shapes import DISPLAY, LABELS, as_float, display, local_text

if TYPE_CHECKING:
    from belimo_cloud.web.live import LiveFeed

__all__ = ["live_payload"]


def _catalogue_of(snap: Snapshot, device_id: str) -> dict[str, tuple[str, str]]:
    """Datapoint id -> (name, unit) within the device's data profile."""
    rows = snap.devices[snap.devices["device_id"] == device_id]
    profile = rows.iloc[0]["dataprofile"] if not rows.empty else None
    cat = snap.catalogue[snap.catalogue["dataprofile"] == profile]
    return {
        str(d): (str(n), str(u) if isinstance(u, str) else "")
        for d, n, u in cat[["datapoint_id", "name", "unit"]].itertuples(index=False, name=None)
    }


def _value(name: str, raw: Any, unit: str) -> dict[str, Any]:
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return {"name": name, "label": LABELS.get(name, name), "value": None, "unit": ""}
    shown, label = display(number, name, unit)
    return {
        "name": name,
        "label": LABELS.get(name, name),
        "value": as_float(shown, 3),
        "unit": label,
    }


def _stored(snap: Snapshot, device_id: str) -> tuple[list[dict[str, Any]], pd.Timestamp | None]:
    frame = snap.device(device_id)
    values, latest = [], None
    for name in DISPLAY:
        series = frame.series(name).dropna()
        if series.empty:
            continue
        values.append(_value(name, series.iloc[-1], frame.unit(name)))
        when = pd.Timestamp(series.index[-1])
        latest = when if latest is None or when > latest else latest
    return values, latest


def live_payload(snap: Snapshot, device_id: str, live: LiveFeed | None, tz: str) -> dict[str, Any]:
    """The device's state: ``source`` is "live" (the change-stream) or "store"."""
    raw, when, events = ({}, None, 0) if live is None else live.latest(device_id)
    status = "off" if live is None else live.status
    if raw:
        names = _catalogue_of(snap, device_id)
        values = [
            _value(names[d][0], v, names[d][1])
            for d, v in sorted(raw.items())
            if d in names and names[d][0] in DISPLAY
        ]
        values.sort(key=lambda v: list(DISPLAY).index(v["name"]))
        stamp = local_text(pd.DatetimeIndex([pd.Timestamp(when)]), tz)[0] if when else None
        return {
            "source": "live",
            "status": status,
            "timestamp": stamp,
            "events": events,
            "values": values,
        }
    values, latest = _stored(snap, device_id)
    stamp = local_text(pd.DatetimeIndex([latest]), tz)[0] if latest is not None else None
    return {"source": "store", "status": status, "timestamp": stamp, "events": 0, "values": values}
