"""What the fleet and compare pages show: device rows, fleet energy per period, comparison.

Plain dicts and lists, ready for JSON and for the templates. Heating and cooling stay apart
everywhere: they are different meters and never added up.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.web.data import Snapshot
from belimo_cloud.web.shapes import as_float, floats, local_text

__all__ = ["PERIODS", "compare", "device_rows", "fleet_energy", "fleet_status"]

#: Period names of the energy charts and their pandas frequencies (local calendar).
PERIODS = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}
DIRECTIONS = ("heating", "cooling")


def _period_of(hourly: pd.DataFrame, by: str, tz: str) -> pd.Series[Any]:
    """The local period start of each hourly row."""
    local = pd.DatetimeIndex(hourly["period"]).tz_convert(tz)
    if by == "hour":
        return pd.Series(local, index=hourly.index)
    if by == "day":
        return pd.Series(local.normalize(), index=hourly.index)
    naive = local.tz_localize(None)
    if by == "week":
        starts = (naive.normalize() - pd.to_timedelta(naive.day_of_week, unit="D")).tz_localize(
            tz, ambiguous=True, nonexistent="shift_forward"
        )
    else:
        starts = (
            naive.to_period("M")
            .to_timestamp()
            .tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        )
    return pd.Series(starts, index=hourly.index)


def period_energy(hourly: pd.DataFrame, by: str, tz: str) -> pd.DataFrame:
    """Hourly energy rows summed into local periods, per direction.

    As in the report, a device's energy in a period counts as ``flagged`` when any of its
    hours there carries a flag (reset, gap, outage, spike...): the bar shows how much of the
    period's energy rests on corrected readings. ``quality`` names the flags with the number
    of devices carrying each.
    """
    cols = ["direction", "period", "consumption", "flagged", "quality"]
    if hourly.empty:
        return pd.DataFrame(columns=cols)
    device = hourly["device_id"] if "device_id" in hourly.columns else ""
    frame = hourly.assign(
        _period=_period_of(hourly, by, tz),
        _device=device,
        _q=hourly["quality"].astype(str),
    )
    keys = ["direction", "_period", "_device"]
    per_device = frame.groupby(keys, sort=True).agg(
        consumption=("consumption", "sum"),
        flags=("_q", lambda q: ",".join(sorted(set(",".join(q).split(",")) - {"ok", ""}))),
    )
    per_device = per_device.reset_index()
    per_device["flagged"] = np.where(per_device["flags"] != "", per_device["consumption"], 0.0)
    grouped = per_device.groupby(["direction", "_period"], sort=True)
    out = grouped.agg(consumption=("consumption", "sum"), flagged=("flagged", "sum"))
    out = out.assign(quality=grouped["flags"].agg(_quality)).reset_index()
    return out.rename(columns={"_period": "period"})[cols]


def _quality(flags: pd.Series[Any]) -> str:
    """ "ok", or each flag with the number of devices carrying it: "gap (1), reset (2)"."""
    counts: dict[str, int] = {}
    for text in flags:
        for flag in filter(None, str(text).split(",")):
            counts[flag] = counts.get(flag, 0) + 1
    return ", ".join(f"{f} ({n})" for f, n in sorted(counts.items())) or "ok"


def fleet_energy(snap: Snapshot, by: str, tz: str) -> dict[str, Any]:
    """The fleet's energy per local period, heating and cooling apart, with flagged shares."""
    return energy_chart(period_energy(snap.fleet.hourly, by, tz), by, tz)


def energy_chart(table: pd.DataFrame | None, by: str, tz: str) -> dict[str, Any]:
    """An energy chart's data [kWh]: per direction, its periods, consumption, flags.

    ``table`` holds the rows of :func:`period_energy`; None when there are no counters.
    """
    directions: dict[str, dict[str, list[Any]]] = {}
    for direction in DIRECTIONS:
        part = table[table["direction"] == direction] if table is not None else None
        if part is None or part.empty:
            continue
        directions[direction] = {
            "period": local_text(pd.DatetimeIndex(part["period"]), tz),
            "consumption": floats(part["consumption"], 3),
            "flagged": floats(part["flagged"], 3),
            "quality": [str(q) for q in part["quality"]],
        }
    return {"by": by, "unit": "kWh", "directions": directions}


def fleet_status(snap: Snapshot) -> dict[str, Any]:
    """Connectivity and health counts."""
    s = snap.fleet.summary
    return {
        "connectivity": {"online": s["online"], "offline": s["offline"]},
        "health": {k: s[k] for k in ("ok", "warning", "error", "unknown") if k in s},
        "total": s["total"],
        "problem": s["problem"],
    }


def _totals(snap: Snapshot) -> dict[tuple[str, str], float]:
    energy = snap.fleet.energy
    if energy.empty:
        return {}
    sums = energy.groupby(["device_id", "direction"])["consumption"].sum()
    return {
        (str(key[0]), str(key[1])): float(value)  # type: ignore[index]
        for key, value in sums.items()
    }


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def device_rows(snap: Snapshot, tz: str) -> list[dict[str, Any]]:
    """One row per device: name, kind, status, health, profile, last seen, energy, findings."""
    status = snap.fleet.status
    kinds = {}
    if not snap.fleet.valves.empty:
        kinds = dict(zip(snap.fleet.valves["device_id"], snap.fleet.valves["kind"], strict=True))
    totals = _totals(snap)
    findings = snap.fleet.findings["device_id"].value_counts().to_dict()
    rows: list[dict[str, Any]] = []
    for r in status.to_dict("records"):
        dev = str(r["device_id"])
        seen = r["last_seen"]
        known = seen is not None and pd.notna(seen)
        kind = str(kinds.get(dev, "unknown"))
        if kind == "unknown":
            heat, cool = totals.get((dev, "heating"), 0.0), totals.get((dev, "cooling"), 0.0)
            kind = "heating" if heat > cool else "cooling" if cool > 0 else "unknown"
        rows.append(
            {
                "device_id": dev,
                "name": str(r["display_name"] or dev),
                "kind": kind,
                "status": str(r["status"]).replace(",", ", "),
                "online": bool(r["online"]),
                "health": _text(r["health_state"]) or "UNKNOWN",
                "health_description": _text(r["health_description"]),
                "profile": _text(r["dataprofile"]),
                "last_seen": local_text(pd.DatetimeIndex([seen]), tz)[0] if known else "never",
                "heating_kwh": as_float(totals.get((dev, "heating")), 1),
                "cooling_kwh": as_float(totals.get((dev, "cooling")), 1),
                "findings": int(findings.get(dev, 0)),
            }
        )
    rows.sort(key=lambda row: str(row["name"]))
    return rows


def _peaks(snap: Snapshot, ids: list[str]) -> dict[str, float]:
    """Peak power [kW] per device: the largest hourly mean of its absolute power."""
    out: dict[str, float] = {}
    for dev in ids:
        power = snap.device(dev).series("AbsPower_Fb_W")
        if power.empty:
            continue
        hourly = power.abs().resample("1h").mean()
        peak = float(hourly.max()) / 1000.0
        if np.isfinite(peak) and peak > 0:
            out[dev] = peak
    return out


def compare(snap: Snapshot, ids: list[str], tz: str) -> dict[str, Any]:
    """Valves side by side: energy per month over their peak power, full-load hours.

    kWh per kW of peak (per month) and full-load hours (the whole period's energy over the
    peak) put valves of different sizes on one scale. Heating and cooling apart.
    """
    known = set(snap.devices["device_id"].astype(str))
    ids = [d for d in dict.fromkeys(ids) if d in known]
    peaks = _peaks(snap, ids)
    hourly = snap.fleet.hourly
    out: dict[str, Any] = {"devices": [], "directions": {}}
    for dev in ids:
        out["devices"].append(
            {"device_id": dev, "name": snap.name_of(dev), "peak_kw": as_float(peaks.get(dev), 2)}
        )
    for direction in DIRECTIONS:
        series = []
        for dev in ids:
            rows = hourly[(hourly["device_id"] == dev) & (hourly["direction"] == direction)]
            if rows.empty or dev not in peaks:
                continue
            months = period_energy(rows, "month", tz)
            total = float(months["consumption"].sum())
            if total <= 0:
                continue
            peak = peaks[dev]
            series.append(
                {
                    "device_id": dev,
                    "name": snap.name_of(dev),
                    "period": local_text(pd.DatetimeIndex(months["period"]), tz),
                    "kwh_per_kw": floats(months["consumption"] / peak, 2),
                    "energy_kwh": as_float(total, 1),
                    "peak_kw": as_float(peak, 2),
                    "full_load_hours": as_float(total / peak, 1),
                }
            )
        if series:
            out["directions"][direction] = series
    return out
