"""Fleet views: energy per device and period, ranking, heating/cooling split, device status.

Inputs are the shared frames of CONTRACTS.md: the devices frame, the datapoint catalogue and
long samples (``device_id, datapoint_id, timestamp, value``). Datapoints are found by their
``default.name`` through the catalogue, never by a hard-coded id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.energy import consumption_frame
from belimo_cloud.analysis.engine import Duration
from belimo_cloud.analysis.events import counter_events_frame
from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.errors import DataError

__all__ = [
    "COUNTER_NAMES",
    "STALE_AFTER",
    "device_status",
    "energy_by_device",
    "energy_events",
    "fleet_periods",
    "fleet_summary",
    "heating_cooling_split",
    "named_samples",
    "problem_devices",
    "ranking",
    "reference_time",
    "series_of",
    "utc_timestamp",
]

#: Energy counters by direction, as ``default.name`` of the Energy Valve profile.
COUNTER_NAMES = {"heating": "Heating_E_J", "cooling": "Cooling_E_J"}
STALE_AFTER = timedelta(hours=1)


def named_samples(
    samples: pd.DataFrame, catalogue: pd.DataFrame, devices: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Long samples with the datapoint's ``name`` and ``unit`` from the catalogue.

    With the devices frame, ids are resolved within each device's data profile (ids repeat
    across profiles); otherwise by id alone. Samples of unknown datapoints get NaN names.
    """
    need = {"device_id", "datapoint_id", "timestamp", "value"}
    if not need <= set(samples.columns):
        raise DataError(f"samples need columns {sorted(need)}")
    cat = catalogue[["dataprofile", "datapoint_id", "name", "unit"]]
    out = samples.copy()
    if samples.empty:
        out["name"] = pd.Series(dtype="object")
        out["unit"] = pd.Series(dtype="object")
        return out
    # Factorize the (few) devices and datapoints, then look names up per unique pair: much
    # faster than merging millions of rows on strings.
    dev_codes, dev_uniq = pd.factorize(samples["device_id"])
    dp_codes, dp_uniq = pd.factorize(samples["datapoint_id"])
    by_pair = {(p, d): (n, u) for p, d, n, u in cat.itertuples(index=False, name=None)}
    by_id: dict[Any, tuple[Any, Any]] = {}
    for _prof, d, n, u in cat.itertuples(index=False, name=None):
        by_id.setdefault(d, (n, u))
    profile: dict[Any, Any] = {}
    if devices is not None and "dataprofile" in devices.columns and not devices.empty:
        profile = (
            devices.drop_duplicates("device_id").set_index("device_id")["dataprofile"].to_dict()
        )
    names = np.empty((len(dev_uniq), len(dp_uniq) + 1), dtype=object)
    units = np.empty((len(dev_uniq), len(dp_uniq) + 1), dtype=object)
    for i, dev in enumerate(dev_uniq):
        prof = profile.get(dev)
        for j, dp in enumerate(dp_uniq):
            found = by_pair.get((prof, dp)) or by_id.get(dp) or (None, None)
            names[i, j], units[i, j] = found
    # Code -1 (a missing id) indexes the extra last column, which stays None.
    out["name"] = names[dev_codes, dp_codes]
    out["unit"] = units[dev_codes, dp_codes]
    return out


def series_of(named: pd.DataFrame, device_id: str, name: str) -> pd.Series[float]:
    """One device's samples of one datapoint (by ``default.name``) as a time-indexed Series."""
    part = named[(named["device_id"] == device_id) & (named["name"] == name)]
    series = pd.Series(
        part["value"].to_numpy(dtype=np.float64),
        index=pd.DatetimeIndex(part["timestamp"]),
        name=name,
    )
    series = series[~series.index.duplicated(keep="last")]
    return series.sort_index()


def _counter_rows(
    named: pd.DataFrame, names: dict[str, str], *, drop_unused: bool = False
) -> pd.DataFrame:
    direction = {v: k for k, v in names.items()}
    rows = named[named["name"].isin(list(direction))].copy()
    rows["direction"] = rows["name"].map(direction)
    if drop_unused and not rows.empty:
        # A heating valve's cooling counter reads 0 for ever: rows for it would be noise.
        level = rows["value"].abs().fillna(0.0).groupby([rows["device_id"], rows["direction"]])
        used = level.transform("max") > 0
        rows = rows[used.to_numpy()]
    return rows


def energy_by_device(
    named: pd.DataFrame,
    *,
    freq: str = "D",
    tz: str | tzinfo = "Europe/Zurich",
    to: str = "kWh",
    start: Any = None,
    end: Any = None,
    resolution: Duration = None,
    names: dict[str, str] | None = None,
    max_power: float | dict[Any, float] | None = None,
    drop_unused: bool = True,
    policy: CounterPolicy | None = None,
) -> pd.DataFrame:
    """Heating and cooling consumption per device and local period.

    ``named`` comes from :func:`named_samples`. Returns long rows ``device_id``,
    ``direction`` (``heating``/``cooling``), ``period``, ``consumption`` [``to``],
    ``coverage``, ``quality``; periods starting before ``start`` or at/after ``end`` are
    dropped (the counter readings around them still count for the edges). With
    ``drop_unused`` a counter that reads zero throughout (a heating valve's cooling counter)
    gives no rows.
    """
    rows = _counter_rows(named, names or COUNTER_NAMES, drop_unused=drop_unused)
    out = consumption_frame(
        rows,
        by=("device_id", "direction"),
        freq=freq,
        tz=tz,
        unit="joule",
        to=to,
        resolution=resolution,
        max_power=max_power,
        policy=policy,
    )
    if start is not None:
        out = out[out["period"] >= _local(start, tz)]
    if end is not None:
        out = out[out["period"] < _local(end, tz)]
    return out.reset_index(drop=True)


def energy_events(
    named: pd.DataFrame,
    *,
    to: str = "kWh",
    start: Any = None,
    end: Any = None,
    resolution: Duration = None,
    names: dict[str, str] | None = None,
    drop_unused: bool = True,
    policy: CounterPolicy | None = None,
) -> pd.DataFrame:
    """Counter findings (resets, glitches, gaps, ...) per device and direction, by time.

    With ``drop_unused`` a counter that reads zero throughout gives no findings (its gaps are
    the device's gaps, already found on the counter it uses).
    """
    rows = _counter_rows(named, names or COUNTER_NAMES, drop_unused=drop_unused)
    out = counter_events_frame(
        rows,
        by=("device_id", "direction"),
        unit="joule",
        to=to,
        resolution=resolution,
        policy=policy,
    )
    if start is not None:
        out = out[out["end"] >= utc_timestamp(start)]
    if end is not None:
        out = out[out["time"] < utc_timestamp(end)]
    return out.reset_index(drop=True)


def utc_timestamp(x: Any) -> pd.Timestamp:
    """A timestamp in UTC; naive values are taken as UTC."""
    ts = pd.Timestamp(x)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def _local(x: Any, tz: str | tzinfo) -> pd.Timestamp:
    ts = pd.Timestamp(x)
    # A naive bound is a local calendar date (``--from 2018-01-01`` means local midnight).
    return ts.tz_localize(tz) if ts.tz is None else ts.tz_convert(tz)


def ranking(
    energy: pd.DataFrame, devices: pd.DataFrame | None = None, *, direction: str | None = None
) -> pd.DataFrame:
    """Devices by consumption, largest first, one ranking per direction (never summed).

    Heating and cooling energy are different quantities (a kWh of cooling is not a kWh of
    heating bought), so they are ranked apart. ``energy`` is the output of
    :func:`energy_by_device`; ``direction`` keeps one ranking (``heating`` or ``cooling``).
    Columns: ``direction``, ``rank`` (within the direction), ``device_id``, ``display_name``
    (with ``devices``), ``consumption`` and ``share`` (of the direction's total). Devices
    whose counter of a direction did not move are absent from that ranking.
    """
    columns = ["direction", "rank", "device_id", "display_name", "consumption", "share"]
    if direction is not None and direction not in COUNTER_NAMES:
        raise DataError(f"direction must be one of {sorted(COUNTER_NAMES)}, got {direction!r}")
    if energy.empty:
        return pd.DataFrame(columns=columns)
    rows = energy if direction is None else energy[energy["direction"] == direction]
    per = rows.groupby(["direction", "device_id"], sort=False)["consumption"].sum().reset_index()
    per = per[per["consumption"] > 0]
    per = per.sort_values(
        ["direction", "consumption", "device_id"], ascending=[True, False, True], kind="stable"
    )
    totals = per.groupby("direction")["consumption"].transform("sum")
    per["share"] = per["consumption"] / totals
    per["rank"] = per.groupby("direction").cumcount() + 1
    names = _names(devices)
    per["display_name"] = per["device_id"].map(names).fillna(per["device_id"])
    return per[columns].reset_index(drop=True)


def heating_cooling_split(energy: pd.DataFrame) -> pd.DataFrame:
    """Fleet totals per period: ``heating`` and ``cooling`` side by side (index ``period``).

    Never added up: the two are different quantities (see :func:`ranking`).
    """
    if energy.empty:
        return pd.DataFrame(columns=["heating", "cooling"])
    wide = energy.pivot_table(
        index="period", columns="direction", values="consumption", aggfunc="sum", fill_value=0.0
    )
    for col in ("heating", "cooling"):
        if col not in wide.columns:
            wide[col] = 0.0
    wide = wide[["heating", "cooling"]].astype("float64")
    wide.columns.name = None
    return wide


def fleet_periods(energy: pd.DataFrame, *, direction: str | None = None) -> pd.DataFrame:
    """Fleet totals per direction and period, with flags in proportion to what they affect.

    One valve's glitch must not colour a whole fleet's month "corrected": each period says how
    many devices carry a flag and how much of the period's energy they hold. Columns:
    ``direction``, ``period``, ``consumption`` (sum), ``coverage`` (mean over devices),
    ``devices``, ``flagged_devices`` (quality not ``ok``), ``flagged`` (their consumption),
    ``flagged_share`` (of the consumption; of the devices when nothing was consumed) and
    ``quality`` (``ok`` or each flag with its device count, e.g. ``glitch 1/12``).
    """
    columns = [
        "direction",
        "period",
        "consumption",
        "coverage",
        "devices",
        "flagged_devices",
        "flagged",
        "flagged_share",
        "quality",
    ]
    rows = energy if direction is None else energy[energy["direction"] == direction]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.assign(
        _flagged=rows["quality"].astype(str) != "ok",
    )
    rows = rows.assign(_flagged_kwh=rows["consumption"].where(rows["_flagged"], 0.0))
    grouped = rows.groupby(["direction", "period"], sort=True)
    out = grouped.agg(
        consumption=("consumption", "sum"),
        coverage=("coverage", "mean"),
        devices=("device_id", "nunique"),
        flagged_devices=("_flagged", "sum"),
        flagged=("_flagged_kwh", "sum"),
    ).reset_index()
    by_energy = out["flagged"] / out["consumption"].where(out["consumption"] > 0)
    by_count = out["flagged_devices"] / out["devices"]
    out["flagged_share"] = by_energy.fillna(by_count).astype("float64")
    out["flagged_devices"] = out["flagged_devices"].astype("int64")
    counts: dict[tuple[Any, Any], dict[str, int]] = {}
    for key, quality in zip(
        zip(rows["direction"], rows["period"], strict=True),
        rows["quality"].astype(str),
        strict=True,
    ):
        if quality == "ok":
            continue
        per = counts.setdefault(key, {})
        for flag in quality.split(","):
            per[flag] = per.get(flag, 0) + 1
    texts = []
    for d, p, n in zip(out["direction"], out["period"], out["devices"], strict=True):
        found = counts.get((d, p), {})
        texts.append(", ".join(f"{f} {c}/{n}" for f, c in sorted(found.items())) or "ok")
    out["quality"] = texts
    return out[columns]


def _names(devices: pd.DataFrame | None) -> pd.Series[Any]:
    if devices is None or devices.empty or "display_name" not in devices.columns:
        return pd.Series(dtype="object")
    frame = devices.drop_duplicates("device_id").set_index("device_id")
    return frame["display_name"].where(frame["display_name"].notna(), frame.index.to_series())


def reference_time(
    devices: pd.DataFrame, now: datetime | pd.Timestamp | None = None
) -> pd.Timestamp:
    """The time staleness is judged against: ``now`` if given, else the fleet's latest lastSeen.

    The latest lastSeen is the server's clock as seen through its devices, so a skewed local
    clock (or a demo cloud with a frozen clock) cannot turn a whole fleet stale. With no
    lastSeen at all, the local clock is used.
    """
    if now is not None:
        return utc_timestamp(now)
    if "last_seen" in devices.columns:
        seen = pd.to_datetime(devices["last_seen"], utc=True)
        if seen.notna().any():
            return pd.Timestamp(seen.max())
    return pd.Timestamp.now(tz="UTC")


def device_status(
    devices: pd.DataFrame,
    *,
    now: datetime | pd.Timestamp | None = None,
    stale_after: timedelta | str = STALE_AFTER,
) -> pd.DataFrame:
    """One row per device: ``online`` (seen within ``stale_after``), ``problem``, ``status``.

    Staleness is judged against :func:`reference_time` (``now``, else the latest lastSeen).

    ``problem`` is a health state other than OK (WARNING, ERROR); UNKNOWN counts as no
    problem but is reported in ``status``. ``last_seen_age_h`` is the age of lastSeen [h]
    (NaN when never seen). ``status`` is one of ``ok``, ``problem``, ``offline``,
    ``offline,problem``.
    """
    cols = ["device_id", "display_name", "health_state", "health_description", "last_seen"]
    missing = [c for c in cols if c not in devices.columns]
    if missing:
        raise DataError(f"devices frame lacks column(s) {', '.join(missing)}")
    ref = reference_time(devices, now)
    limit = pd.Timedelta(stale_after)
    out = devices[[*cols, *[c for c in ("dataprofile", "project_name") if c in devices]]].copy()
    seen = pd.to_datetime(out["last_seen"], utc=True)
    age = (ref - seen) / pd.Timedelta(hours=1)
    out["last_seen_age_h"] = age.astype("float64")
    out["online"] = (seen.notna() & ((ref - seen) <= limit)).astype(bool)
    state = out["health_state"].fillna("UNKNOWN").astype(str).str.upper()
    out["problem"] = state.isin(["WARNING", "ERROR"]).astype(bool)
    status = np.where(out["online"], "ok", "offline")
    status = np.where(out["problem"], np.where(out["online"], "problem", "offline,problem"), status)
    out["status"] = status
    return out.reset_index(drop=True)


def fleet_summary(
    devices: pd.DataFrame,
    *,
    now: datetime | pd.Timestamp | None = None,
    stale_after: timedelta | str = STALE_AFTER,
) -> dict[str, int]:
    """Counts: ``total``, ``online``, ``offline``, ``ok``, ``problem`` (warning or error),
    ``warning``, ``error``, ``unknown`` (health)."""
    st = device_status(devices, now=now, stale_after=stale_after)
    state = st["health_state"].fillna("UNKNOWN").astype(str).str.upper()
    return {
        "total": len(st),
        "online": int(st["online"].sum()),
        "offline": int((~st["online"]).sum()),
        "ok": int((state == "OK").sum()),
        "problem": int(st["problem"].sum()),
        "warning": int((state == "WARNING").sum()),
        "error": int((state == "ERROR").sum()),
        "unknown": int((~state.isin(["OK", "WARNING", "ERROR"])).sum()),
    }


def problem_devices(
    devices: pd.DataFrame,
    *,
    now: datetime | pd.Timestamp | None = None,
    stale_after: timedelta | str = STALE_AFTER,
    columns: Sequence[str] = (
        "device_id",
        "display_name",
        "status",
        "health_state",
        "health_description",
        "last_seen",
        "last_seen_age_h",
    ),
) -> pd.DataFrame:
    """Devices that are offline (stale lastSeen) or report a problem, worst first."""
    st = device_status(devices, now=now, stale_after=stale_after)
    bad = st[(~st["online"]) | st["problem"]].copy()
    bad["_order"] = bad["problem"].astype(int) + (~bad["online"]).astype(int)
    bad = bad.sort_values(["_order", "last_seen_age_h"], ascending=[False, False])
    return bad[list(columns)].reset_index(drop=True)
