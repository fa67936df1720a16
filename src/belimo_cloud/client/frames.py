"""Models to pandas DataFrames in the shapes every layer above shares (CONTRACTS.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from belimo_cloud.client.decode import SeriesArrays
from belimo_cloud.client.models import Datapoint, DataProfile, Device
from belimo_cloud.client.timeutil import floor_to_grid

__all__ = [
    "CATALOGUE_COLUMNS",
    "DEVICE_COLUMNS",
    "LONG_COLUMNS",
    "catalogue_frame",
    "compact_frame",
    "convert_frame",
    "devices_frame",
    "empty_long_frame",
    "join_windows",
    "long_frame",
    "pivot",
]

_NS = np.int64(1_000_000_000)
_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
_STR = pd.array([], dtype="str").dtype  # pandas' default string dtype
_STR_ARRAY: Any = type(pd.array([], dtype="str"))


def _ns(value: datetime) -> np.int64:
    """A UTC datetime as int64 nanoseconds since the epoch."""
    return np.int64(int(value.timestamp())) * _NS + np.int64(value.microsecond * 1000)


DEVICE_COLUMNS = [
    "device_id",
    "display_name",
    "serial_number",
    "production_id",
    "device_type",
    "dataprofile",
    "health_state",
    "health_description",
    "last_seen",
    "online_days",
    "project_name",
    "address_city",
    "address_country",
]
CATALOGUE_COLUMNS = [
    "dataprofile",
    "datapoint_id",
    "name",
    "description",
    "unit",
    "access",
    "basetype",
]
LONG_COLUMNS = ["device_id", "datapoint_id", "timestamp", "value"]


def devices_frame(devices: Iterable[Device]) -> pd.DataFrame:
    """One row per device: id, names, profile, health and location (CONTRACTS.md columns)."""
    rows: list[dict[str, Any]] = [
        {
            "device_id": d.id,
            "display_name": d.display_name,
            "serial_number": d.serial_number,
            "production_id": d.production_id,
            "device_type": d.device_type,
            "dataprofile": d.dataprofile_id,
            "health_state": d.health.state,
            "health_description": d.health.description,
            "last_seen": d.health.last_seen,
            "online_days": d.health.online_days,
            "project_name": d.project_name,
            "address_city": d.address_city,
            "address_country": d.address_country,
        }
        for d in devices
    ]
    frame = pd.DataFrame(rows, columns=DEVICE_COLUMNS)
    frame["last_seen"] = pd.to_datetime(frame["last_seen"], utc=True)
    frame["online_days"] = frame["online_days"].astype("Int64")
    return frame


def catalogue_rows(
    datapoints: Iterable[Datapoint], profile: DataProfile
) -> list[dict[str, str | None]]:
    """One row per datapoint definition, with the catalogue columns."""
    return [
        {
            "dataprofile": profile.key,
            "datapoint_id": dp.id,
            "name": dp.name,
            "description": dp.description,
            "unit": dp.unit,
            "access": dp.access,
            "basetype": dp.basetype,
        }
        for dp in datapoints
    ]


def catalogue_frame(profile: DataProfile) -> pd.DataFrame:
    """One row per datapoint of a profile: id, default.name, description, unit, access, type."""
    return pd.DataFrame(catalogue_rows(profile.datapoints, profile), columns=CATALOGUE_COLUMNS)


def empty_long_frame() -> pd.DataFrame:
    """The long timeseries frame with no rows but the right columns and dtypes."""
    return pd.DataFrame(
        {
            "device_id": pd.array([], dtype="str"),
            "datapoint_id": pd.array([], dtype="str"),
            "timestamp": pd.DatetimeIndex([], tz="UTC").as_unit("ns"),
            "value": pd.array([], dtype="float64"),
        }
    )


def convert_frame(frame: pd.DataFrame, profile: DataProfile, to: dict[str, str]) -> pd.DataFrame:
    """Convert the ``value`` column of a long frame per datapoint, by its profile unit.

    ``to`` maps a datapoint id to the target unit (e.g. ``{"evcloud.210": "kWh"}``); rows of
    other datapoints stay raw. Returns a new frame with a ``unit`` column added.
    """
    from belimo_cloud import units

    out = frame.copy()
    out["unit"] = pd.array([None] * len(out), dtype="str")
    for datapoint_id, target in to.items():
        dp = profile.get(datapoint_id)
        mask = out["datapoint_id"] == datapoint_id
        if dp.unit:
            out.loc[mask, "value"] = units.convert(
                out.loc[mask, "value"].to_numpy(), dp.unit, target
            )
            out.loc[mask, "unit"] = target
    known = out["unit"].isna()
    for datapoint_id in out.loc[known, "datapoint_id"].unique():
        if datapoint_id in profile:
            unit = profile.get(str(datapoint_id)).unit
            out.loc[known & (out["datapoint_id"] == datapoint_id), "unit"] = unit
    return out


def join_windows(
    device: str,
    results: list[list[SeriesArrays]],
    windows: list[tuple[datetime, datetime]],
    resolution: timedelta,
    *,
    compact: bool = False,
) -> pd.DataFrame:
    """Join per-window series into one long frame, each bucket exactly once, sorted.

    ``compact=True`` gives the columns a store writes (see :func:`compact_frame`).
    """
    pieces: dict[str, list[tuple[npt.NDArray[np.datetime64], npt.NDArray[Any]]]] = {}
    for series_list, (lo, hi) in zip(results, windows, strict=True):
        lo_ns = _ns(floor_to_grid(lo, resolution))
        hi_ns = _ns(hi)
        for series in series_list:
            stamps = series.timestamps
            ints = stamps.view(np.int64)
            inside = (ints >= lo_ns) & (ints < hi_ns)
            if inside.all():
                pieces.setdefault(series.datapoint_id, []).append((stamps, series.values))
            else:
                pieces.setdefault(series.datapoint_id, []).append(
                    (stamps[inside], series.values[inside])
                )
    if not pieces:
        return compact_frame([], [], []) if compact else empty_long_frame()
    ids = sorted(pieces)
    all_ts: list[npt.NDArray[np.datetime64]] = []
    all_vals: list[npt.NDArray[Any]] = []
    for datapoint in ids:
        parts = pieces[datapoint]
        ts = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        vals = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        if len(ts) > 1:
            steps = np.diff(ts.view(np.int64))
            if not (steps > 0).all():
                order = np.argsort(ts, kind="stable")
                ts, vals = ts[order], vals[order]
                keep = np.ones(len(ts), dtype=bool)
                keep[1:] = ts[1:] != ts[:-1]
                ts, vals = ts[keep], vals[keep]
        all_ts.append(ts)
        all_vals.append(vals)
    if compact:
        return compact_frame(ids, all_ts, all_vals)
    return long_frame(device, ids, all_ts, all_vals)


def long_frame(
    device: str,
    ids: list[str],
    stamps: list[npt.NDArray[np.datetime64]],
    values: list[npt.NDArray[Any]],
) -> pd.DataFrame:
    """The canonical long frame from per-datapoint arrays (ids already in sorted order)."""
    counts = [len(s) for s in stamps]
    total = sum(counts)
    if total == 0:
        return empty_long_frame()
    ts = np.concatenate(stamps) if len(stamps) > 1 else stamps[0]
    vals = np.concatenate(values) if len(values) > 1 else values[0]
    if vals.dtype != object:
        vals = vals.astype(np.float64, copy=False)
    return pd.DataFrame(
        {
            "device_id": _repeated([device], [total]),
            "datapoint_id": _repeated(ids, counts),
            "timestamp": pd.DatetimeIndex(
                ts.astype("datetime64[ns]", copy=False).view(np.int64), dtype=_UTC_NS
            ),
            "value": vals,
        }
    )


def compact_frame(
    ids: list[str],
    stamps: list[npt.NDArray[np.datetime64]],
    values: list[npt.NDArray[Any]],
) -> pd.DataFrame:
    """The long frame without ``device_id`` and with a categorical ``datapoint_id``.

    What a store needs of one device's window: a code per row instead of two repeated strings,
    about half the bytes of :func:`long_frame`, and nothing allocated per row outside numpy.
    """
    counts = [len(s) for s in stamps]
    ts = np.concatenate(stamps) if len(stamps) > 1 else (stamps[0] if stamps else _NO_STAMPS)
    vals = np.concatenate(values) if len(values) > 1 else (values[0] if values else _NO_VALUES)
    if vals.dtype != object:
        vals = vals.astype(np.float64, copy=False)
    codes = np.repeat(np.arange(len(ids), dtype=np.int16), counts)
    return pd.DataFrame(
        {
            "datapoint_id": pd.Categorical.from_codes(codes, categories=pd.Index(ids, dtype=_STR)),
            "timestamp": pd.DatetimeIndex(
                ts.astype("datetime64[ns]", copy=False).view(np.int64), dtype=_UTC_NS
            ),
            "value": vals,
        }
    )


_NO_STAMPS = np.empty(0, dtype="datetime64[ns]")
_NO_VALUES = np.empty(0, dtype=np.float64)


def _repeated(texts: list[str], counts: list[int]) -> Any:
    """A pandas "str" column of ``texts[i]`` repeated ``counts[i]`` times, built in Arrow.

    Arrow repeats a scalar without a Python object per row, which is the bulk of building
    the long frame otherwise.
    """
    chunks = [
        pa.repeat(pa.scalar(text, pa.large_string()), n)
        for text, n in zip(texts, counts, strict=True)
    ]
    try:
        return _STR_ARRAY(pa.chunked_array(chunks, type=pa.large_string()), dtype=_STR)
    except (TypeError, ValueError):  # a pandas whose "str" is not Arrow-backed
        codes = np.repeat(np.arange(len(texts), dtype=np.intp), counts)
        return pd.array(texts, dtype="str").take(codes)


def pivot(frame: pd.DataFrame) -> pd.DataFrame:
    """The wide view: index timestamp, one column per datapoint."""
    if frame.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="timestamp"))
    wide = frame.pivot(index="timestamp", columns="datapoint_id", values="value")
    wide.columns.name = None
    return wide
