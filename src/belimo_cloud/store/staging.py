"""A chunk's rows keyed by series and put in (series, time) order in numpy, ready to insert.

A fetched window arrives ordered by datapoint and time with one row per bucket, so this is
mostly a check: the rows go to DuckDB as an Arrow table without a join, a sort or a window
function. Frames numpy cannot take as they are (values as text, timestamps as text or finer
than DuckDB's microseconds) are left to the writer's SQL casts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

_NAT = np.iinfo(np.int64).min
_UTC_MICROS = pa.timestamp("us", tz="UTC")
# Arrow's default pool (mimalloc) keeps what it freed for a while; a staged window lives for
# one write, so its buffers come from malloc and go back to it.
_POOL = pa.system_memory_pool()


@dataclass(frozen=True)
class Staged:
    """Rows to insert (series_id, timestamp, value) and the first and last time among them."""

    table: pa.Table
    first: datetime | None
    last: datetime | None


def staged_rows(frame: pd.DataFrame, ids: dict[str, int]) -> Staged | None:
    """The chunk's rows as (series_id, timestamp, value) in (series, time) order, one per bucket.

    Rows of datapoints without a series id, or without a timestamp, are left out; of rows
    repeating a series and time, the later one is kept; a missing value is NULL. None when
    the frame needs SQL's casts (values not numeric, timestamps not datetimes or finer than
    DuckDB's microseconds).
    """
    values, stamps = frame["value"], frame["timestamp"]
    if not (_numeric(values.dtype) and pd.api.types.is_datetime64_any_dtype(stamps.dtype)):
        return None
    micros = _micros(stamps)
    if micros is None:
        return None
    series = _series_of(frame["datapoint_id"], ids)
    number = values.to_numpy(dtype=np.float64, na_value=np.nan)
    keep = (series >= 0) & (micros != _NAT)
    if not keep.all():
        series, micros, number = series[keep], micros[keep], number[keep]
    if len(series) > 1:
        if (np.diff(series) < 0).any():
            # A fetched window comes in datapoint order, which need not be series order:
            # a stable sort by series keeps each run (and the arrival order) as it is.
            runs = np.argsort(series, kind="stable")
            series, micros, number = series[runs], micros[runs], number[runs]
        step = np.diff(series)
        if not ((step > 0) | ((step == 0) & (np.diff(micros) > 0))).all():
            series, micros, number = _ordered_last(series, micros, number)
    table = pa.table(
        {
            "series_id": pa.array(series.astype(np.int32), memory_pool=_POOL),
            "timestamp": pa.array(micros, type=_UTC_MICROS, memory_pool=_POOL),
            # NaN -> NULL, as SQL stores it
            "value": pa.array(number, from_pandas=True, memory_pool=_POOL),
        }
    )
    if not len(micros):
        return Staged(table, None, None)
    return Staged(table, _moment(int(micros.min())), _moment(int(micros.max())))


def _series_of(keys: pd.Series, ids: dict[str, int]) -> npt.NDArray[np.int64]:
    """Each row's series id, -1 for a datapoint without one (or no datapoint at all)."""
    if isinstance(keys.dtype, pd.CategoricalDtype):
        codes = keys.cat.codes.to_numpy()
        names: Any = keys.cat.categories
    else:
        codes, names = pd.factorize(keys)
    # A missing key (code -1) looks up the -1 at the end.
    lookup = np.array([ids.get(str(name), -1) for name in names] + [-1], dtype=np.int64)
    return lookup[codes]


def _numeric(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)


def _micros(stamps: pd.Series) -> npt.NDArray[np.int64] | None:
    """Timestamps as int64 microseconds since the epoch, UTC (naive ones are UTC); NaT kept."""
    array = stamps.array
    if not isinstance(array, pd.arrays.DatetimeArray):
        return None
    ticks = pd.DatetimeIndex(array).asi8  # epoch ticks in the array's unit, UTC
    if array.unit == "us":
        return ticks
    valid = ticks != _NAT
    if array.unit == "ns":
        if (ticks[valid] % 1000).any():
            return None  # DuckDB truncates to microseconds: let it, in SQL
        return np.where(valid, ticks // 1000, _NAT)
    return np.where(valid, ticks * {"s": 1_000_000, "ms": 1000}[array.unit], _NAT)


def _ordered_last(
    series: npt.NDArray[np.int64], micros: npt.NDArray[np.int64], values: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Sorted by (series, time) in arrival order, keeping the last row of each pair."""
    order = np.lexsort((np.arange(len(series)), micros, series))
    series, micros, values = series[order], micros[order], values[order]
    last = np.ones(len(series), dtype=bool)
    last[:-1] = (series[1:] != series[:-1]) | (micros[1:] != micros[:-1])
    return series[last], micros[last], values[last]


def _moment(micros: int) -> datetime:
    seconds, rest = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest)
