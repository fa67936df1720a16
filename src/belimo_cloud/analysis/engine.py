"""The vectorised engine behind consumption(): prepare grouped arrays and scan them.

Internal to the analysis package; the public functions are in :mod:`.energy`, binning into
periods in :mod:`.binning`. All groups (series) are processed together: one pass over every
reading, then per-group work that only touches period boundaries and the rare findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from belimo_cloud.analysis.counters import Scan, scan_counters
from belimo_cloud.analysis.intervals import Unordered
from belimo_cloud.analysis.policy import CounterPolicy, Duration, to_ns
from belimo_cloud.errors import DataError

__all__ = [
    "Duration",
    "Prepared",
    "prepare_frame",
    "prepare_series",
    "scan",
    "to_ns",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_KEY_BLOCK = 1 << 17  # rows of keys compared at a time (the comparison stays in cache)


@dataclass
class Prepared:
    """Readings grouped (group g is starts[g]:starts[g+1]), as given or sorted by time."""

    keys: pd.DataFrame
    starts: I64
    t: I64
    v: F64


def _ns(values: Any) -> I64:
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.arrays.DatetimeArray) and str(values.tz) == "UTC":
        # The common case (store and client frames): a view, no copy.
        arr = values if values.unit == "ns" else values.as_unit("ns")
        return np.asarray(arr.view("i8"), dtype=np.int64)
    try:
        idx = pd.DatetimeIndex(values)
    except (ValueError, TypeError) as exc:
        raise DataError("timestamps must be datetimes (tz-aware UTC)") from exc
    # Naive timestamps are taken as UTC, like everywhere else in belimo-cloud.
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    return np.asarray(idx.as_unit("ns").asi8, dtype=np.int64)


def _floats(values: Any) -> F64:
    if isinstance(values, pd.Series) and values.dtype == np.float64:
        # The common case: a view of the column, no 8 bytes a row copied.
        return np.asarray(values.to_numpy(), dtype=np.float64)
    try:
        return np.asarray(pd.Series(values).to_numpy(dtype=np.float64, na_value=np.nan), np.float64)
    except (ValueError, TypeError) as exc:
        raise DataError("counter values must be numbers") from exc


def _sort_groups(codes: npt.NDArray[np.intp], t: I64, v: F64, n_groups: int) -> Prepared:
    order = np.lexsort((t, codes))
    codes, t, v = codes[order], t[order], v[order]
    keep = np.ones(len(t), dtype=bool)
    if len(t) > 1:
        # Duplicate timestamps: the later row wins (a re-read replaces an earlier value).
        keep[:-1] = ~((codes[1:] == codes[:-1]) & (t[1:] == t[:-1]))
    if not keep.all():
        codes, t, v = codes[keep], t[keep], v[keep]
    starts = np.searchsorted(codes, np.arange(n_groups + 1)).astype(np.int64)
    return Prepared(keys=pd.DataFrame(), starts=starts, t=t, v=v)


def _changes(codes: npt.NDArray[Any]) -> I64:
    """Rows ``i`` (1 .. n - 1) whose value differs from row ``i - 1``'s, in ascending order.

    By blocks into a buffer that stays in cache, looked at row by row only where something
    changes: keys come sorted, so most blocks hold a single key.
    """
    parts: list[I64] = []
    n = len(codes)
    size = min(_KEY_BLOCK, max(n - 1, 0))
    buf = np.empty(size, dtype=bool)
    for s in range(0, n - 1, _KEY_BLOCK):
        e = min(s + _KEY_BLOCK, n - 1)
        differ = np.not_equal(codes[s + 1 : e + 1], codes[s:e], out=buf[: e - s])
        if differ.any():
            parts.append(np.flatnonzero(differ) + (s + 1))
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _key_changes(column: pd.Series[Any]) -> I64:
    """Rows ``i`` (1 .. n - 1) whose key differs from row ``i - 1``'s, without Python.

    Keys compare as integers when they can: categorical codes, Arrow strings (as the store
    returns them) compared in Arrow, numbers as they are. Only plain object columns fall back
    to comparing Python objects one by one.
    """
    arr = column.array
    if isinstance(arr, pd.Categorical):
        # The codes themselves (a view); ``Series.cat.codes`` would copy them into a Series.
        return _changes(arr.codes)
    arrow = getattr(arr, "_pa_array", None)
    if isinstance(arrow, pa.ChunkedArray):
        # Arrow-backed keys (pandas' str dtype): one C++ pass, no Python objects created.
        whole = arrow.combine_chunks() if arrow.num_chunks != 1 else arrow.chunk(0)
        n = len(whole)
        differ = pc.not_equal(whole.slice(1), whole.slice(0, n - 1))
        # A null key next to a value, or two nulls: nulls form their own group, like NaN.
        nulls = pc.is_null(whole)
        if nulls.null_count or bool(pc.any(nulls).as_py()):
            na = nulls.to_numpy(zero_copy_only=False)
            out = pc.fill_null(differ, False).to_numpy(zero_copy_only=False)
            return np.flatnonzero(out | (na[1:] != na[:-1])).astype(np.int64) + 1
        # The positions straight from Arrow's bits, not a byte per row first.
        found = pc.indices_nonzero(differ).to_numpy(zero_copy_only=False)
        return np.asarray(found, dtype=np.int64) + 1
    raw = column.to_numpy()
    if raw.dtype.kind in "biu":
        return _changes(raw)
    return np.flatnonzero(np.asarray(raw[1:] != raw[:-1])).astype(np.int64) + 1


def prepare_series(series: pd.Series[Any]) -> Prepared:
    """One counter as a single group (its time order is checked by the scan)."""
    t = _ns(series.index)
    v = _floats(series.to_numpy())
    starts = np.array([0, len(t)], dtype=np.int64)
    return Prepared(keys=pd.DataFrame(index=[0]), starts=starts, t=t, v=v)


def prepare_frame(samples: pd.DataFrame, by: Sequence[str], time: str, value: str) -> Prepared:
    """Long samples grouped by the ``by`` columns; fast when already sorted by key and time.

    Each key's readings are contiguous; their time order is checked by the scan, in the
    pass it makes over every reading anyway (:func:`scan` sorts them when it is wrong).
    """
    by = list(by)
    n = len(samples)
    t = _ns(samples[time])
    v = _floats(samples[value])
    if n > 1:
        changes = [_key_changes(samples[col]) for col in by]
        # With several keys a row starts a run where any of them changes.
        inner = changes[0]
        if len(changes) > 1:
            inner = np.sort(np.concatenate(changes))
            inner = inner[np.append(True, inner[1:] != inner[:-1])[: len(inner)]]
        run_starts = np.concatenate(([0], inner)).astype(np.int64)
    else:
        run_starts = np.zeros(n, dtype=np.int64)
    keys = samples[by].iloc[run_starts].reset_index(drop=True)
    if not keys.duplicated().any():
        return Prepared(keys=keys, starts=np.append(run_starts, n).astype(np.int64), t=t, v=v)
    grouped = samples.groupby(by, sort=True, observed=True, dropna=False)
    codes = np.asarray(grouped.ngroup().to_numpy(), dtype=np.intp)
    keys = grouped.size().reset_index()[by]
    prep = _sort_groups(codes, t, v, len(keys))
    return Prepared(keys=keys, starts=prep.starts, t=prep.t, v=prep.v)


def scan(
    prep: Prepared,
    *,
    policy: CounterPolicy,
    max_rate: F64 | None,
    resolution: Duration,
) -> Scan:
    """Run the counter scan on prepared readings (shifting bucket starts to bucket ends).

    Readings out of time order within a group (rare: the store and the client hand them
    sorted) are sorted, duplicates dropped, and scanned again.
    """
    shift = to_ns(resolution, "resolution") or 0
    t = prep.t + shift if shift else prep.t
    try:
        return scan_counters(prep.starts, t, prep.v, policy=policy, max_rate=max_rate)
    except Unordered:
        n_groups = len(prep.starts) - 1
        codes = np.repeat(np.arange(n_groups, dtype=np.intp), np.diff(prep.starts))
        ordered = _sort_groups(codes, t, prep.v, n_groups)
        return scan_counters(ordered.starts, ordered.t, ordered.v, policy=policy, max_rate=max_rate)
