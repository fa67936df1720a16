"""The vectorised engine behind consumption(): prepare grouped arrays, scan, bin into periods.

Internal to the analysis package; the public functions are in :mod:`.energy`. All groups
(series) are processed together: a few passes over every reading, then per-group work that
only touches period boundaries and the rare findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from belimo_cloud.analysis.counters import (
    GAP,
    OUTAGE,
    PARTIAL,
    SPIKE,
    Scan,
    flag_names,
    scan_counters,
)
from belimo_cloud.analysis.periods import period_bounds
from belimo_cloud.analysis.policy import CounterPolicy, Duration, to_ns
from belimo_cloud.analysis.readings import Unordered
from belimo_cloud.errors import DataError
from belimo_cloud.units import convert

__all__ = [
    "Duration",
    "Prepared",
    "bin_periods",
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
        inner = changes[0] if len(changes) == 1 else np.unique(np.concatenate(changes))
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


def _quality_text(bits: npt.NDArray[np.uint8]) -> pd.api.extensions.ExtensionArray:
    """The flag names of each row as a ``str`` array, built in Arrow from the few names.

    The same array pandas infers from Python strings, without creating one object a row.
    """
    top = int(bits.max()) if len(bits) else 0
    names = pa.array([flag_names(b) for b in range(top + 1)], type=pa.string())
    text = pa.DictionaryArray.from_arrays(pa.array(bits), names).dictionary_decode()
    out: pd.api.extensions.ExtensionArray = pd.array(text, dtype="str")
    return out


def _ranges(lo: npt.NDArray[np.intp], counts: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Concatenated ``range(lo[i], lo[i] + counts[i])``."""
    total = int(counts.sum())
    return np.repeat(lo, counts) + (
        np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    )


def _last_at_or_before(sc: Scan, groups: I64, counts: I64, bg: I64, bt: I64) -> I64:
    """Per boundary ``bt`` of group ``bg``: the last reading at or before it (``lo - 1``: none).

    Readings mostly come at the group's cadence, so the index is first guessed from the time
    and checked against its two neighbours: two look-ups instead of a binary search through
    memory. Only groups with a wrong guess (after a gap, irregular readings) are searched.
    """
    lo, hi = sc.lo[bg], sc.hi[bg]
    t0 = sc.t[lo]
    cad = sc.cadence[bg]
    with np.errstate(invalid="ignore", divide="ignore"):
        steps = np.floor((bt - t0) / cad)
    steps = np.nan_to_num(steps, nan=0.0, posinf=0.0, neginf=0.0)
    k = lo + np.clip(steps, -1, hi - lo - 1).astype(np.int64)
    here = sc.t[np.maximum(k, lo)]
    after = sc.t[np.minimum(k + 1, hi - 1)]
    ok = ((k < lo) | (here <= bt)) & ((k + 1 >= hi) | (after > bt))
    if ok.all():
        return k
    pos = 0
    # One search per group with a wrong guess: its boundaries are sorted and its readings
    # contiguous, so each search stays in cache.
    for g, cnt in zip(groups.tolist(), counts.tolist(), strict=True):
        wrong = ~ok[pos : pos + cnt]
        if wrong.any():
            a, b = int(sc.lo[g]), int(sc.hi[g])
            idx = np.flatnonzero(wrong) + pos
            k[idx] = np.searchsorted(sc.t[a:b], bt[idx], side="right") - 1 + a
        pos += cnt
    return k


def bin_periods(
    sc: Scan,
    *,
    freq: str | pd.DateOffset,
    tz: str | tzinfo,
    unit: str,
    to: str,
    spread_gaps: bool,
) -> pd.DataFrame:
    """Consumption, coverage and quality per group and local period from a scan.

    Columns ``_group`` (group index), ``period``, ``consumption`` [``to``], ``coverage``,
    ``quality``; groups without readings have no rows.
    """
    groups = np.flatnonzero(sc.first >= 0)
    if not len(groups):
        return pd.DataFrame(columns=["_group", "period", "consumption", "coverage", "quality"])
    # Periods run from the first to the last reading, excluded or not (an excluded reading's
    # period gets its flag); coverage counts from the first to the last used reading.
    first = sc.t[sc.lo[groups]]
    last = sc.t[sc.hi[groups] - 1]
    starts_idx, bounds = period_bounds(
        pd.Timestamp(int(first.min()), tz="UTC"), pd.Timestamp(int(last.max()), tz="UTC"), freq, tz
    )
    n_b = len(bounds)
    pa = np.searchsorted(bounds, first, side="right") - 1
    pb = np.maximum(np.searchsorted(bounds, last, side="left") - 1, pa)
    pb = np.minimum(pb, n_b - 2)
    n_per = pb - pa + 1
    # Boundaries to evaluate per group: bounds[pa .. pb + 1].
    bj = _ranges(pa, n_per + 1)
    bg = np.repeat(groups, n_per + 1)
    bt = bounds[bj]
    k = _last_at_or_before(sc, groups, n_per + 1, bg, bt)
    lo_b, hi_b = sc.lo[bg], sc.hi[bg]
    before = k < lo_b
    k_c = np.clip(k, lo_b, hi_b - 1)
    e_k = sc.energy_at(k_c, bg)
    e_k = np.where(before, 0.0, e_k)
    # Between two readings: interpolate, except inside a gap unless spreading it.
    nxt = k_c + 1
    inside = ~before & (nxt < hi_b) & (sc.t[k_c] < bt)
    if inside.any():
        ii = np.flatnonzero(inside)
        kk, nn = k_c[ii], nxt[ii]
        e_n = sc.energy_at(nn, bg[ii])
        frac = (bt[ii] - sc.t[kk]) / (sc.t[nn] - sc.t[kk]).astype(np.float64)
        if not spread_gaps and len(sc.gap_ends):
            is_gap = np.isin(nn, sc.gap_ends)
            frac = np.where(is_gap, 0.0, frac)
        e_k[ii] = e_k[ii] + frac * (e_n - e_k[ii])
    # Consumption: differences of E between consecutive boundaries of the same group.
    ends = np.cumsum(n_per + 1)
    diff = np.diff(e_k)
    keep = np.ones(len(diff), dtype=bool)
    keep[ends[:-1] - 1] = False
    energy = np.maximum(diff[keep], 0.0)
    rg = np.repeat(groups, n_per)
    rj = _ranges(pa, n_per)
    p_lo, p_hi = bounds[rj], bounds[rj + 1]
    f_g = np.repeat(sc.t[sc.first[groups]], n_per)
    l_g = np.repeat(sc.t[sc.last[groups]], n_per)
    span = np.maximum(np.minimum(p_hi, l_g) - np.maximum(p_lo, f_g), 0).astype(np.float64)
    flags = np.zeros(len(rg), dtype=np.uint8)
    # Row index of (group, period j): offset of the group's rows + (j - pa).
    row_off = np.zeros(len(sc.lo), dtype=np.int64)
    row_off[groups] = np.cumsum(n_per) - n_per
    pa_of = np.zeros(len(sc.lo), dtype=np.int64)
    pa_of[groups] = pa
    pb_of = np.zeros(len(sc.lo), dtype=np.int64)
    pb_of[groups] = pb
    if len(sc.gap_pos):
        gg = np.searchsorted(sc.hi, sc.gap_pos, side="right")
        gs, ge = sc.t[sc.gap_prev], sc.t[sc.gap_pos]
        ja = np.searchsorted(bounds, gs, side="right") - 1
        jb = np.searchsorted(bounds, ge, side="left") - 1
        cnt = jb - ja + 1
        rep = np.repeat(np.arange(len(gs)), cnt)
        j = _ranges(ja, cnt)
        ok = (j >= pa_of[gg[rep]]) & (j <= pb_of[gg[rep]])
        rep, j = rep[ok], j[ok]
        rows = row_off[gg[rep]] + j - pa_of[gg[rep]]
        lost = np.minimum(ge[rep], bounds[j + 1]) - np.maximum(gs[rep], bounds[j])
        np.subtract.at(span, rows, np.maximum(lost, 0).astype(np.float64))
        flags[rows] |= GAP
    ev = sc.events
    if len(ev["time"]):
        kinds = ev["kind"]
        is_gap_ev = kinds == GAP
        sel = ~is_gap_ev
        g_e = ev["group"][sel]
        # A reset closes the interval before it: it belongs to the period that interval lies
        # in. An excluded reading touches the intervals on both sides of it.
        excluded = (kinds[sel] == OUTAGE) | (kinds[sel] == SPIKE)
        key_a = ev["time"][sel] - 1
        key_b = np.where(excluded, ev["end"][sel], key_a)
        ja = np.searchsorted(bounds, key_a, side="right") - 1
        jb = np.searchsorted(bounds, key_b, side="right") - 1
        cnt = jb - ja + 1
        rep = np.repeat(np.arange(len(ja)), cnt)
        j = _ranges(ja, cnt)
        g_r = g_e[rep]
        ok = (j >= pa_of[g_r]) & (j <= pb_of[g_r])
        rows = row_off[g_r[ok]] + j[ok] - pa_of[g_r[ok]]
        bits = kinds[sel][rep][ok]
        for bit in np.unique(bits).tolist():
            flags[rows[bits == bit]] |= np.uint8(bit)
    lengths = (p_hi - p_lo).astype(np.float64)
    coverage = np.clip(span / lengths, 0.0, 1.0)
    # Data that starts or ends within one reading interval of a period's edge (at most 1 % of
    # the period) leaves it complete: `sync --from` a date gives readings from the first
    # bucket's end, one interval after the period starts.
    cad = np.nan_to_num(np.repeat(sc.cadence[groups], n_per), nan=0.0)
    slack = np.minimum(cad, 0.01 * (p_hi - p_lo))
    edge = (f_g - p_lo > slack) | (p_hi - l_g > slack)
    flags |= np.where(edge & (coverage < 1.0 - 1e-9), PARTIAL, 0).astype(np.uint8)
    return pd.DataFrame(
        {
            "_group": rg,
            "period": starts_idx[rj],
            "consumption": convert(energy, unit, to, delta=True),
            "coverage": coverage,
            "quality": _quality_text(flags),
        }
    )
