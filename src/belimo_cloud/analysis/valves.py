"""Per-valve hydronic KPIs over a period, from named long samples: one row per valve.

Puts :mod:`.hydronics` to work on each Energy Valve in a fleet: which way it works (heating
or cooling), its dT against the setpoint, low-dT hours, time at Vmax and the two power
plausibility checks. Datapoints are found by ``default.name``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.energy import consumption
from belimo_cloud.analysis.engine import Duration
from belimo_cloud.analysis.episodes import (
    RECOMMENDATIONS,
    low_delta_t_episodes,
    vmax_episodes,
)
from belimo_cloud.analysis.fleet import utc_timestamp
from belimo_cloud.analysis.hydronics import (
    energy_check,
    low_delta_t,
    power_check,
    time_at_vmax,
)

__all__ = ["EPISODE_FINDING_COLUMNS", "NAMES", "VALVE_COLUMNS", "valve_episodes", "valve_kpis"]

#: ``default.name`` of every datapoint the KPIs use.
NAMES = {
    "heating_energy": "Heating_E_J",
    "cooling_energy": "Cooling_E_J",
    "flow": "AbsFlow_Fb_m3s",
    "relative_flow": "RelFlow_Fb_Rel2Vmax",
    "supply_temperature": "T1_remote_K",
    "return_temperature": "T2_embeded_K",
    "delta_t": "DeltaT_K",
    "delta_t_setpoint": "SpDeltaT_applied_K",
    "power": "AbsPower_Fb_W",
}

VALVE_COLUMNS = [
    "device_id",
    "display_name",
    "kind",
    "mean_dt",
    "mean_setpoint",
    "evaluated_hours",
    "high_flow_hours",
    "low_dt_hours",
    "low_dt_share",
    "hours_at_vmax",
    "vmax_share",
    "max_flow",
    "power_mismatch_pct",
    "energy_mismatch_pct",
    "power_basis",
    "low_dt",
    "at_vmax",
]

EPISODE_FINDING_COLUMNS = [
    "device_id",
    "display_name",
    "finding",
    "start",
    "end",
    "duration_h",
    "hours",
    "recommendation",
]

#: Counters are read as ``last`` buckets; everything else means most as ``avg`` buckets.
_COUNTERS = {NAMES["heating_energy"], NAMES["cooling_energy"]}


def _window(s: pd.Series[float], start: Any, end: Any) -> pd.Series[float]:
    if start is not None:
        s = s[s.index >= utc_timestamp(start)]
    if end is not None:
        s = s[s.index < utc_timestamp(end)]
    return s


def _split(named: pd.DataFrame) -> dict[tuple[Any, Any], pd.Series[float]]:
    """Every (device, name) as a sorted, de-duplicated time series, in one pass."""
    out: dict[tuple[Any, Any], pd.Series[float]] = {}
    if named.empty:
        return out
    dev_codes, dev_uniq = pd.factorize(named["device_id"])
    name_codes, name_uniq = pd.factorize(named["name"])
    key = dev_codes.astype(np.int64) * (len(name_uniq) + 1) + name_codes
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    cuts = np.flatnonzero(np.diff(key_sorted)) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(order)]))
    times = pd.DatetimeIndex(named["timestamp"])
    values = named["value"].to_numpy(dtype=np.float64)
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        rows = order[lo:hi]
        d, n = dev_codes[rows[0]], name_codes[rows[0]]
        if d < 0 or n < 0:
            continue
        series = pd.Series(values[rows], index=times[rows], name=str(name_uniq[n]))
        series = series.sort_index()
        out[(dev_uniq[d], name_uniq[n])] = series[~series.index.duplicated(keep="last")]
    return out


def _by_aggregation(named: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Counters from their non-``avg`` rows; other quantities from ``avg`` rows where present.

    Samples may carry an ``aggregation`` column when both kinds of bucket were fetched: the
    energy check must integrate the average power of each hour, not the last sample of it
    (which is biased wherever power ramps). Returns the rows and the power's basis (``avg``,
    the aggregation found, or ``samples`` when unknown).
    """
    power = named["name"] == NAMES["power"]
    if "aggregation" not in named.columns:
        return named, "samples"
    agg = named["aggregation"].astype(str)
    counter = named["name"].isin(list(_COUNTERS))
    keep = np.where(counter, agg != "avg", True)
    averaged = ~counter & (agg == "avg")
    names_with_avg = set(named.loc[averaged, "name"].unique())
    keep &= np.where(~counter & named["name"].isin(list(names_with_avg)), averaged, True)
    rows = named[keep]
    found = sorted(set(rows.loc[power[keep], "aggregation"].astype(str).unique()))
    return rows, (found[0] if len(found) == 1 else ",".join(found) or "samples")


def _kind(heat: pd.Series[float], cool: pd.Series[float], dt_sign: float) -> str:
    rise_h = float(heat.max() - heat.min()) if len(heat) else 0.0
    rise_c = float(cool.max() - cool.min()) if len(cool) else 0.0
    if rise_h > 0 or rise_c > 0:
        return "heating" if rise_h >= rise_c else "cooling"
    if np.isfinite(dt_sign) and dt_sign != 0:
        return "heating" if dt_sign > 0 else "cooling"
    return "unknown"


def valve_kpis(
    named: pd.DataFrame,
    devices: pd.DataFrame | None = None,
    *,
    start: Any = None,
    end: Any = None,
    high_flow: float = 50.0,
    min_flow: float = 5.0,
    ratio: float = 0.8,
    vmax_threshold: float = 98.0,
    low_dt_min_share: float = 0.10,
    min_hours: float = 12.0,
    resolution: Duration = None,
) -> pd.DataFrame:
    """Hydronic KPIs per valve over [start, end) (UTC bounds; None = all data).

    ``named`` comes from :func:`belimo_cloud.analysis.fleet.named_samples` (flow and
    temperatures ideally as ``avg`` buckets, counters as ``last``). Columns
    (:data:`VALVE_COLUMNS`): dT and setpoint means [K], evaluated/high-flow/low-dT hours [h],
    ``low_dt_share`` (of high-flow hours), hours at Vmax and their share of flow hours,
    ``max_flow`` [%], the power mismatch [%] (rho*cp*flow*dT vs reported power) and the energy
    mismatch [%] (integral of power vs the counter's increase), and two verdicts: ``low_dt``
    (at least ``min_hours`` low-dT hours, ``low_dt_min_share`` of the high-flow hours; low
    means dT < ``ratio`` x setpoint at relative flow > ``high_flow``) and ``at_vmax`` (at
    least ``min_hours`` at or above ``vmax_threshold`` % of Vmax). Devices without flow data
    are left out.

    With an ``aggregation`` column, counters come from ``last`` rows and the other quantities
    from ``avg`` rows; ``power_basis`` says which power the energy check integrated.
    ``resolution`` is the bucket length when samples are bucket starts: a ``last`` counter
    bucket holds the reading at its end, so the power is integrated over the buckets that
    follow the first counter bucket.
    """
    rows: list[dict[str, Any]] = []
    names: dict[Any, Any] = {}
    if devices is not None and not devices.empty:
        names = (
            devices.drop_duplicates("device_id").set_index("device_id")["display_name"].to_dict()
        )
    if named.empty:
        return pd.DataFrame(columns=VALVE_COLUMNS)
    wanted, basis = _by_aggregation(named[named["name"].isin(list(NAMES.values()))])
    pieces = _split(wanted)
    shift = pd.Timedelta(resolution) if resolution is not None else pd.Timedelta(0)
    has_flow = sorted({dev for dev, name in pieces if name == NAMES["relative_flow"]}, key=str)
    empty = pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))
    for device_id in has_flow:

        def get(key: str, dev: Any = device_id) -> pd.Series[float]:
            return _window(pieces.get((dev, NAMES[key]), empty), start, end)

        rel = get("relative_flow")
        heat, cool = get("heating_energy"), get("cooling_energy")
        t1, t2 = get("supply_temperature"), get("return_temperature")
        dt_sign = float((t1 - t2).mean()) if len(t1) and len(t2) else float("nan")
        kind = _kind(heat, cool, dt_sign)
        dt = get("delta_t")
        if dt.empty and len(t1) and len(t2):
            dt = (t1 - t2).abs()
        dt = dt.abs()
        sp = get("delta_t_setpoint")
        if dt.empty:
            low = {
                "evaluated_hours": float("nan"),
                "high_flow_hours": float("nan"),
                "low_hours": float("nan"),
                "low_share": float("nan"),
                "mean_dt": float("nan"),
                "mean_setpoint": float("nan"),
            }
        else:
            setpoint: pd.Series[float] | float = sp if len(sp) else float("nan")
            low = low_delta_t(
                dt, setpoint, rel, high_flow=high_flow, min_flow=min_flow, ratio=ratio
            )
        vmax = time_at_vmax(rel, threshold=vmax_threshold)
        flow, power = get("flow"), get("power")
        pmis = float("nan")
        if len(flow) and len(power) and len(dt):
            pmis = power_check(flow, dt, power)["mismatch_pct"]
        emis = float("nan")
        counter = heat if kind != "cooling" else cool
        if len(power) and len(counter) > 1:
            total = consumption(counter, freq="YS", tz="UTC", to="J")["consumption"].sum()
            lo_t, hi_t = counter.index.min(), counter.index.max()
            emis = energy_check(power, float(total), start=lo_t + shift, end=hi_t + shift)[
                "mismatch_pct"
            ]
        low_dt = bool(low["low_share"] >= low_dt_min_share and low["low_hours"] >= min_hours)
        at_vmax = bool(vmax["hours_at_vmax"] >= min_hours)
        rows.append(
            {
                "device_id": device_id,
                "display_name": names.get(device_id, device_id),
                "kind": kind,
                "mean_dt": low["mean_dt"],
                "mean_setpoint": low["mean_setpoint"],
                "evaluated_hours": low["evaluated_hours"],
                "high_flow_hours": low["high_flow_hours"],
                "low_dt_hours": low["low_hours"],
                "low_dt_share": low["low_share"],
                "hours_at_vmax": vmax["hours_at_vmax"],
                "vmax_share": vmax["share"],
                "max_flow": vmax["max_flow"],
                "power_mismatch_pct": pmis,
                "energy_mismatch_pct": emis,
                "power_basis": basis if len(power) else "",
                "low_dt": low_dt,
                "at_vmax": at_vmax,
            }
        )
    if not rows:
        return pd.DataFrame(columns=VALVE_COLUMNS)
    return pd.DataFrame(rows, columns=VALVE_COLUMNS)


def valve_episodes(
    named: pd.DataFrame,
    devices: pd.DataFrame | None = None,
    *,
    start: Any = None,
    end: Any = None,
    high_flow: float = 50.0,
    min_flow: float = 5.0,
    ratio: float = 0.8,
    vmax_threshold: float = 98.0,
    min_hours: float = 12.0,
    bridge: str = "72h",
) -> pd.DataFrame:
    """Low-dT and flow-at-Vmax episodes of every valve, with dates and a recommendation.

    The same rules as :func:`valve_kpis` (see :mod:`.episodes`), over [start, end). Columns
    (:data:`EPISODE_FINDING_COLUMNS`): ``finding`` is ``low_delta_t`` or ``at_vmax``;
    ``start``/``end`` UTC; ``duration_h`` from start to end and ``hours`` in the condition
    [h]. Episodes shorter than ``min_hours`` in the condition are left out; healthy hours up
    to ``bridge`` (three days: a weekend at part load) do not split an episode.
    """
    names: dict[Any, Any] = {}
    if devices is not None and not devices.empty:
        names = (
            devices.drop_duplicates("device_id").set_index("device_id")["display_name"].to_dict()
        )
    if named.empty:
        return pd.DataFrame(columns=EPISODE_FINDING_COLUMNS)
    wanted, _ = _by_aggregation(named[named["name"].isin(list(NAMES.values()))])
    pieces = _split(wanted)
    empty = pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))
    parts: list[pd.DataFrame] = []
    for device_id in sorted(
        {dev for dev, name in pieces if name == NAMES["relative_flow"]}, key=str
    ):

        def get(key: str, dev: Any = device_id) -> pd.Series[float]:
            return _window(pieces.get((dev, NAMES[key]), empty), start, end)

        rel = get("relative_flow")
        dt = get("delta_t")
        if dt.empty:
            t1, t2 = get("supply_temperature"), get("return_temperature")
            dt = (t1 - t2).dropna()
        sp = get("delta_t_setpoint")
        found = [
            (
                "at_vmax",
                vmax_episodes(
                    rel,
                    threshold=vmax_threshold,
                    min_flow=min_flow,
                    bridge=bridge,
                    min_hours=min_hours,
                ),
            ),
        ]
        if len(dt) and len(sp):
            low = low_delta_t_episodes(
                dt.abs(),
                sp,
                rel,
                high_flow=high_flow,
                min_flow=min_flow,
                ratio=ratio,
                bridge=bridge,
                min_hours=min_hours,
            )
            found.insert(0, ("low_delta_t", low))
        for finding, runs in found:
            if runs.empty:
                continue
            eps = runs.assign(
                device_id=device_id,
                display_name=names.get(device_id, device_id),
                finding=finding,
                recommendation=RECOMMENDATIONS[finding],
            )
            parts.append(eps[EPISODE_FINDING_COLUMNS])
    if not parts:
        return pd.DataFrame(columns=EPISODE_FINDING_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["start", "device_id"], kind="stable").reset_index(drop=True)
