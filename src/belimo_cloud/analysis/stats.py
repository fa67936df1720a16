"""Per-series statistics of counters: jitter tolerance, plausibility bound and cadence.

Judged robustly from a bounded sample of each series (eight runs of consecutive intervals),
all series at once, a chunk of series at a time; the counter scan reads every reading with
them (:mod:`.intervals`, :mod:`.readings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from belimo_cloud.analysis.policy import CounterPolicy

__all__ = ["SeriesStats", "series_stats"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_SAMPLE = 1024  # intervals per series used for its statistics
_CHUNK = 64  # series whose statistics are computed together (temporaries stay in cache)
_REL_RESOLUTION = 1e-9  # float counters cannot resolve less than this share of their level


@dataclass
class SeriesStats:
    """Per group: jitter tolerance [unit], plausible rate [unit/s] (inf: none), cadence [ns]."""

    tol: F64
    bound: F64
    cadence: F64


def _row_quantile(x: F64, q: float, *, full: bool = False) -> F64:
    """The ``q`` quantile of each row, ignoring NaN (NaN for a row without values).

    ``full``: no row holds NaN, so the two order statistics needed sit at the same place in
    every row and a partition finds them (no sort).
    """
    if full and x.shape[1]:
        pos_f = q * (x.shape[1] - 1)
        lo_i = int(np.floor(pos_f))
        hi_i = min(lo_i + 1, x.shape[1] - 1)
        part = np.partition(x, [lo_i, hi_i] if hi_i != lo_i else [lo_i], axis=1)
        lo_f, hi_f = part[:, lo_i], part[:, hi_i]
        return np.asarray(lo_f + (pos_f - lo_i) * (hi_f - lo_f), dtype=np.float64)
    srt = np.sort(x, axis=1)  # NaN sorts last
    count = np.sum(~np.isnan(x), axis=1)
    pos = q * np.maximum(count - 1, 0)
    below = np.floor(pos).astype(np.int64)
    above = np.minimum(below + 1, np.maximum(count - 1, 0))
    rows = np.arange(len(x))
    lo_v, hi_v = srt[rows, below], srt[rows, above]
    out = lo_v + (pos - below) * (hi_v - lo_v)
    return np.where(count > 0, out, np.nan)


def _pairs(lo: I64, hi: I64) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Indices i of up to ``_SAMPLE`` consecutive pairs (i, i + 1) per group, and validity.

    Long series are sampled in eight evenly spaced runs of consecutive readings, so that the
    statistics see real neighbours (jitter, cadence) at a bounded cost; one row per group.
    """
    m = np.maximum(hi - lo - 1, 0)
    run = _SAMPLE // 8
    cols = np.arange(_SAMPLE, dtype=np.int64)
    heads = (np.linspace(0.0, 1.0, 8)[None, :] * np.maximum(m - run, 0)[:, None]).astype(np.int64)
    sampled = (heads[:, :, None] + np.arange(run, dtype=np.int64)[None, None, :]).reshape(
        len(lo), _SAMPLE
    )
    long = (m > _SAMPLE)[:, None]
    offset = np.where(long, sampled, cols[None, :])
    valid = long | (cols[None, :] < m[:, None])
    idx = lo[:, None] + np.where(valid, offset, 0)
    return idx, valid


def series_stats(
    t: I64, v: F64, lo: I64, hi: I64, *, policy: CounterPolicy, max_rate: F64
) -> SeriesStats:
    """Jitter tolerance, plausibility bound and cadence of every group, robustly.

    Jitter: when decreases are common (not rare events), three times their 90th percentile.
    Bound: ``max_rate * margin`` where a nominal rate is known, else (with ``plausibility``)
    ``spike_factor`` times the 90th percentile of the positive rates between non-zero
    readings (twice the median for short series). Cadence: the 90th-percentile interval.
    All groups at once, a chunk of groups at a time (one row of samples per group).
    """
    parts = [
        _stats_chunk(t, v, lo[a : a + _CHUNK], hi[a : a + _CHUNK], policy)
        for a in range(0, len(lo), _CHUNK)
    ]
    tol = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
    bound = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
    cadence = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    if len(max_rate):
        known = np.isfinite(max_rate)
        bound = np.where(known, max_rate * policy.margin, bound)
    return SeriesStats(tol=tol, bound=bound, cadence=cadence)


def _samples(t: I64, v: F64, lo: I64, hi: I64) -> tuple[F64, F64, F64, npt.NDArray[np.bool_]]:
    """Sampled intervals of each group: length [ns], readings at both ends, and which pairs
    are usable (both readings positive or negative and finite). NaN lengths: no pair.

    Groups of more than ``_SAMPLE`` intervals (the usual case: all of a chunk) are read as
    eight runs of consecutive readings, each sliced once, not as two look-ups a pair.
    """
    m = np.maximum(hi - lo - 1, 0)
    if len(lo) and bool((m > _SAMPLE).all()):
        run = _SAMPLE // 8
        heads = (np.linspace(0.0, 1.0, 8)[None, :] * (m - run)[:, None]).astype(np.int64)
        at = (lo[:, None] + heads)[:, :, None] + np.arange(run + 1, dtype=np.int64)
        tt, vv = t[at], v[at]
        shape = (len(lo), _SAMPLE)
        dt = np.diff(tt, axis=2).reshape(shape).astype(np.float64)
        usable = np.isfinite(vv) & (vv != 0)
        good = (usable[:, :, :-1] & usable[:, :, 1:]).reshape(shape)
        return dt, vv[:, :, :-1].reshape(shape), vv[:, :, 1:].reshape(shape), good
    idx, valid = _pairs(lo, hi)
    nxt = np.minimum(idx + 1, max(len(t) - 1, 0))  # invalid pairs may point past the end
    dt = np.where(valid, (t[nxt] - t[idx]).astype(np.float64), np.nan)
    v0, v1 = v[idx], v[nxt]
    good = valid & np.isfinite(v0) & np.isfinite(v1) & (v0 != 0) & (v1 != 0)
    return dt, v0, v1, good


def _stats_chunk(t: I64, v: F64, lo: I64, hi: I64, policy: CounterPolicy) -> tuple[F64, F64, F64]:
    dt, v0, v1, good = _samples(t, v, lo, hi)
    full = not bool(np.isnan(dt).any())
    cadence = _row_quantile(dt, 0.9, full=full)
    step = np.where(good, v1 - v0, np.nan)
    level = np.max(np.where(good, np.abs(v0), 0.0), axis=1)
    floor = _REL_RESOLUTION * level
    if policy.jitter is not None:
        tol = np.maximum(float(policy.jitter), floor)
    else:
        falls = step < 0
        n_neg = np.sum(falls, axis=1)
        common = n_neg >= np.maximum(5, (0.02 * np.sum(good, axis=1)).astype(np.int64))
        jitter = np.zeros(len(lo))
        # Only the rows that use a quantile sort for it (a counter has few decreases).
        if common.any():
            sub = step[common]
            neg = np.where(sub < 0, -sub, np.nan)
            jitter[common] = 3.0 * np.nan_to_num(_row_quantile(neg, 0.9))
        tol = np.maximum(jitter, floor)
    bound = np.full(len(lo), np.inf)
    if policy.plausibility:
        up = step > tol[:, None]
        n_up = np.sum(up, axis=1)
        high, mid = n_up >= 20, (n_up >= 3) & (n_up < 20)
        for rows, q, scale in (
            (high, 0.9, policy.spike_factor),
            (mid, 0.5, policy.spike_factor * 2.0),
        ):
            if rows.any():
                rates = np.where(up[rows], step[rows] / (dt[rows] / 1e9), np.nan)
                bound[rows] = scale * _row_quantile(rates, q)
    return tol, bound, cadence
