"""Hydronic KPIs of energy valves: dT, low-dT hours, coil saturation, Vmax, power checks.

Inputs are Series indexed by UTC timestamps (raw samples or bucket starts of ``avg``
buckets); each sample stands for the time until the next one (capped at twice the typical
step, so that gaps do not count as hours). Units follow the profile: temperatures and dT
[K], relative flow [%], flow [m3/s], power [W], energy [J].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.errors import DataError

__all__ = [
    "CP_WATER",
    "RHO_WATER",
    "coil_saturation",
    "delta_t",
    "delta_t_vs_flow",
    "energy_check",
    "low_delta_t",
    "power_check",
    "sample_hours",
    "time_at_vmax",
]

RHO_WATER = 998.0  # [kg/m3] at about 20 degC
CP_WATER = 4186.0  # [J/(kg K)]


def _series(x: Any, what: str) -> pd.Series[float]:
    if not isinstance(x, pd.Series):
        raise DataError(f"{what} must be a pandas Series indexed by time")
    return x.astype("float64")


def _utc(x: Any) -> pd.Timestamp:
    ts = pd.Timestamp(x)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def sample_hours(index: pd.Index) -> pd.Series[float]:
    """Hours each sample stands for: the time to the next one, capped at 2x the median step.

    The last sample gets the median step. Empty or single-sample indexes give 0 h and the
    typical step respectively (1 h when nothing else is known).
    """
    if len(index) == 0:
        return pd.Series(dtype="float64", index=index)
    idx = pd.DatetimeIndex(index)
    ns = idx.as_unit("ns").asi8
    if len(ns) == 1:
        return pd.Series([1.0], index=index)
    dt = np.diff(ns).astype(np.float64) / 3.6e12
    step = float(np.median(dt[dt > 0])) if (dt > 0).any() else 1.0
    hours = np.append(np.minimum(dt, 2 * step), step)
    return pd.Series(hours, index=index)


def delta_t(
    supply: pd.Series[Any], return_: pd.Series[Any], *, mode: str = "heating"
) -> pd.Series[float]:
    """Water temperature difference [K] from supply (T1) and return (T2) temperatures [K].

    ``heating``: T1 - T2; ``cooling``: T2 - T1; ``abs``: the magnitude. Aligned on common
    timestamps; NaN where either is missing.
    """
    t1, t2 = _series(supply, "supply"), _series(return_, "return_")
    if mode == "heating":
        out = t1 - t2
    elif mode == "cooling":
        out = t2 - t1
    elif mode == "abs":
        out = (t1 - t2).abs()
    else:
        raise DataError(f"mode must be heating, cooling or abs, got {mode!r}")
    return out.rename("delta_t")


def _aligned(**series: pd.Series[Any]) -> pd.DataFrame:
    frame = pd.concat({k: _series(v, k) for k, v in series.items()}, axis=1)
    return frame.sort_index()


def low_delta_t(
    dt: pd.Series[Any],
    setpoint: pd.Series[Any] | float,
    relative_flow: pd.Series[Any],
    *,
    high_flow: float = 50.0,
    min_flow: float = 5.0,
    ratio: float = 0.8,
    tolerance: float = 0.0,
) -> dict[str, float]:
    """Hours with dT below setpoint while relative flow is high (low-dT syndrome).

    Only samples with real flow (relative flow > ``min_flow`` [%]) are evaluated; a sample is
    low when relative flow > ``high_flow`` [%] and dT < ``ratio`` x setpoint - ``tolerance``
    [K]. A healthy coil runs a little under its setpoint (about 0.9 of it), hence the ratio.
    Returns ``evaluated_hours``, ``high_flow_hours``, ``low_hours``, ``low_share`` (of
    high-flow hours, 0..1), ``mean_dt`` and ``mean_setpoint`` [K] over evaluated samples.
    """
    sp = setpoint if isinstance(setpoint, pd.Series) else pd.Series(float(setpoint), index=dt.index)
    frame = _aligned(dt=dt, sp=sp, flow=relative_flow).dropna()
    hours = sample_hours(frame.index)
    active = frame["flow"] > min_flow
    high = active & (frame["flow"] > high_flow)
    low = high & (frame["dt"] < frame["sp"] * ratio - tolerance)
    high_h = float(hours[high].sum())
    low_h = float(hours[low].sum())
    return {
        "evaluated_hours": float(hours[active].sum()),
        "high_flow_hours": high_h,
        "low_hours": low_h,
        "low_share": low_h / high_h if high_h > 0 else 0.0,
        "mean_dt": float(frame.loc[active, "dt"].mean()) if active.any() else float("nan"),
        "mean_setpoint": float(frame.loc[active, "sp"].mean()) if active.any() else float("nan"),
    }


def delta_t_vs_flow(
    dt: pd.Series[Any],
    relative_flow: pd.Series[Any],
    *,
    power: pd.Series[Any] | None = None,
    bins: int = 10,
    min_flow: float = 5.0,
) -> pd.DataFrame:
    """dT (and power) binned by relative flow: the coil's characteristic.

    Bins are equal slices of 0..100 % (flow above 100 % joins the last one); samples at or
    below ``min_flow`` are left out. Columns: ``flow_low``, ``flow_high`` [%], ``samples``,
    ``hours``, ``flow_mean`` [%], ``dt_mean``, ``dt_p10``, ``dt_p90`` [K] and, with
    ``power``, ``power_mean`` [W].
    Empty bins are kept (NaN statistics) so the axis stays regular.
    """
    cols: dict[str, pd.Series[Any]] = {"dt": dt, "flow": relative_flow}
    if power is not None:
        cols["power"] = power
    frame = _aligned(**cols).dropna()
    frame = frame[frame["flow"] > min_flow]
    edges = np.linspace(0.0, 100.0, bins + 1)
    hours = sample_hours(frame.index)
    which = np.clip(np.searchsorted(edges, frame["flow"].to_numpy(), side="right") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        sel = which == b
        part = frame[sel]
        row: dict[str, float] = {
            "flow_low": float(edges[b]),
            "flow_high": float(edges[b + 1]),
            "samples": float(sel.sum()),
            "hours": float(hours[sel].sum()),
            "flow_mean": float(part["flow"].mean()) if len(part) else float("nan"),
            "dt_mean": float(part["dt"].mean()) if len(part) else float("nan"),
            "dt_p10": float(part["dt"].quantile(0.1)) if len(part) else float("nan"),
            "dt_p90": float(part["dt"].quantile(0.9)) if len(part) else float("nan"),
        }
        if power is not None:
            row["power_mean"] = float(part["power"].mean()) if len(part) else float("nan")
        rows.append(row)
    out = pd.DataFrame(rows)
    out["samples"] = out["samples"].astype("int64")
    return out


def coil_saturation(binned: pd.DataFrame) -> float:
    """How much extra flow still adds power: power gain per flow gain, upper vs middle bins.

    From :func:`delta_t_vs_flow` with power: the slope of mean power over the upper half of
    flow (50..100 %) divided by the slope over the lower half (to 50 %). About 1 for a linear
    coil; near 0 for a saturated coil (more flow, no more power). NaN when not computable.
    """
    if "power_mean" not in binned.columns:
        return float("nan")
    b = binned.dropna(subset=["power_mean"])
    b = b[b["samples"] > 0]
    mid = (b["flow_low"] + b["flow_high"]) / 2
    lower, upper = b[mid <= 50.0], b[mid > 50.0]  # by bin, so a bin is never split
    if len(lower) < 2 or len(upper) < 2:
        return float("nan")

    def slope(part: pd.DataFrame) -> float:
        x = part["flow_mean"].to_numpy()
        y = part["power_mean"].to_numpy()
        return float(np.polyfit(x, y, 1)[0])

    low_slope = slope(lower)
    if low_slope <= 0:
        return float("nan")
    return slope(upper) / low_slope


def time_at_vmax(relative_flow: pd.Series[Any], *, threshold: float = 98.0) -> dict[str, float]:
    """Hours at or above ``threshold`` [%] of Vmax, and their share of the hours with flow.

    Returns ``hours_at_vmax``, ``flow_hours`` (relative flow > 5 %), ``share`` (0..1) and
    ``max_flow`` [%].
    """
    flow = _series(relative_flow, "relative_flow").dropna().sort_index()
    hours = sample_hours(flow.index)
    at = flow >= threshold
    active = flow > 5.0
    active_h = float(hours[active].sum())
    at_h = float(hours[at].sum())
    return {
        "hours_at_vmax": at_h,
        "flow_hours": active_h,
        "share": at_h / active_h if active_h > 0 else 0.0,
        "max_flow": float(flow.max()) if len(flow) else float("nan"),
    }


def power_check(
    flow: pd.Series[Any],
    dt: pd.Series[Any],
    power: pd.Series[Any],
    *,
    rho: float = RHO_WATER,
    cp: float = CP_WATER,
    min_power: float = 0.0,
) -> dict[str, float]:
    """Compare rho * cp * flow * dT with the reported power: the mismatch [%].

    ``flow`` [m3/s], ``dt`` [K] (positive magnitude), ``power`` [W]. The mismatch is
    (computed - reported) / reported over the summed samples with reported power above
    ``min_power``; a plausibility score, not a verdict (glycol lowers cp).
    Returns ``computed_kwh``, ``reported_kwh`` (energy of the compared samples) and
    ``mismatch_pct`` (NaN when nothing to compare).
    """
    frame = _aligned(flow=flow, dt=dt, power=power).dropna()
    frame = frame[frame["power"].abs() > min_power]
    hours = sample_hours(frame.index)
    computed = rho * cp * frame["flow"] * frame["dt"].abs()
    comp_kwh = float((computed * hours).sum() / 1e3)
    rep_kwh = float((frame["power"].abs() * hours).sum() / 1e3)
    mismatch = (comp_kwh - rep_kwh) / rep_kwh * 100.0 if rep_kwh > 0 else float("nan")
    return {"computed_kwh": comp_kwh, "reported_kwh": rep_kwh, "mismatch_pct": mismatch}


def energy_check(
    power: pd.Series[Any], counter_increase_j: float, *, start: Any = None, end: Any = None
) -> dict[str, float]:
    """Integral of power [W] against a counter's increase [J] over the same span: mismatch [%].

    Power samples stand for the time to the next sample (``avg`` buckets: the bucket).
    Returns ``integrated_kwh``, ``counter_kwh`` and ``mismatch_pct`` =
    (integrated - counter) / counter.
    """
    p = _series(power, "power").dropna().sort_index()
    if start is not None:
        p = p[p.index >= _utc(start)]
    if end is not None:
        p = p[p.index < _utc(end)]
    hours = sample_hours(p.index)
    integrated = float((p.abs() * hours).sum() / 1e3)
    counter = float(counter_increase_j) / 3.6e6
    mismatch = (integrated - counter) / counter * 100.0 if counter > 0 else float("nan")
    return {"integrated_kwh": integrated, "counter_kwh": counter, "mismatch_pct": mismatch}
