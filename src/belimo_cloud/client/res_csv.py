"""The CSV export (``/data/download``): ';'-separated, one row per sample time, parsed."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from belimo_cloud.client.decode import values_to_array
from belimo_cloud.client.frames import empty_long_frame, long_frame
from belimo_cloud.errors import ResponseError

__all__ = ["melt_csv", "parse_csv"]


def parse_csv(text: str) -> pd.DataFrame:
    """Parse the API's ';'-separated export: header ``timestamp;<ids>``, empty cells missing."""
    if not text.strip():
        return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC").as_unit("ns")})
    try:
        raw = pd.read_csv(
            io.StringIO(text), sep=";", dtype=str, keep_default_na=False, na_values=[""]
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise ResponseError(f"malformed CSV from the API: {exc}") from None
    if raw.columns.empty or raw.columns[0] != "timestamp":
        raise ResponseError(
            f"unexpected CSV header from the API: {';'.join(map(str, raw.columns))[:120]!r}"
        )
    times = pd.to_datetime(raw["timestamp"], utc=True, format="ISO8601", errors="coerce")
    if times.isna().any():
        bad = raw.loc[times.isna(), "timestamp"].iloc[0]
        raise ResponseError(f"unreadable timestamp {bad!r} in the API's CSV")
    out = pd.DataFrame({"timestamp": times.dt.as_unit("ns")})
    for column in raw.columns[1:]:
        cells = raw[column]
        numbers = pd.to_numeric(cells, errors="coerce")
        if numbers.notna().sum() == cells.notna().sum():
            out[column] = numbers.astype("float64")
        else:
            out[column] = cells
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def melt_csv(device: str, wide: pd.DataFrame) -> pd.DataFrame:
    """The long frame of a parsed export: one row per non-empty cell, sorted by id and time."""
    columns = [c for c in wide.columns if c != "timestamp"]
    if not columns or wide.empty:
        return empty_long_frame()
    ts = wide["timestamp"].dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    stamps: list[npt.NDArray[np.datetime64]] = []
    vals: list[npt.NDArray[Any]] = []
    for column in columns:
        mask = wide[column].notna().to_numpy()
        stamps.append(ts[mask])
        vals.append(values_to_array(wide[column].to_numpy()[mask].tolist()))
    order = sorted(range(len(columns)), key=lambda i: columns[i])
    return long_frame(
        device,
        [str(columns[i]) for i in order],
        [stamps[i] for i in order],
        [vals[i] for i in order],
    )
