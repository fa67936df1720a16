"""Server-side reduction of long series for display: min and max per pixel bucket.

A year at 15 minutes is 35,040 points per series; a chart is at most a few thousand pixels
wide. Keeping, per bucket of the time axis, the first, minimum, maximum and last point (in
time order) draws the same envelope as the full series (peaks and dips survive, unlike
averaging or striding) with at most four points per pixel.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["minmax_reduce", "thin"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def minmax_reduce(x: IntArray, y: FloatArray, buckets: int) -> IntArray:
    """Indices of the points to keep: first, min, max and last of each of ``buckets``.

    ``x`` is sorted time (integers, e.g. epoch milliseconds), ``y`` the values (NaN allowed:
    a bucket of NaN keeps its first point, so gaps still break the line). Returns sorted,
    unique indices into ``x``; every point when there are no more than ``4 * buckets``.
    """
    n = len(x)
    if n <= 4 * max(buckets, 1):
        return np.arange(n, dtype=np.int64)
    lo, hi = int(x[0]), int(x[-1])
    width = max((hi - lo) / buckets, 1.0)
    bucket = np.minimum(((x - lo) / width).astype(np.int64), buckets - 1)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], n] - 1
    finite = np.where(np.isnan(y), np.nan, y)
    keep = [starts, ends]
    # Per bucket, the position of its min and max: reduceat over the finite values.
    filled_lo = np.where(np.isnan(finite), np.inf, finite)
    filled_hi = np.where(np.isnan(finite), -np.inf, finite)
    mins = np.minimum.reduceat(filled_lo, starts)
    maxs = np.maximum.reduceat(filled_hi, starts)
    seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
    at_min = np.flatnonzero((filled_lo == mins[seg]) & np.isfinite(filled_lo))
    at_max = np.flatnonzero((filled_hi == maxs[seg]) & np.isfinite(filled_hi))
    # The first index of each bucket reaching its min (max).
    keep.append(at_min[np.r_[True, seg[at_min][1:] != seg[at_min][:-1]]] if len(at_min) else at_min)
    keep.append(at_max[np.r_[True, seg[at_max][1:] != seg[at_max][:-1]]] if len(at_max) else at_max)
    return np.unique(np.concatenate(keep)).astype(np.int64)


def thin(n: int, limit: int) -> IntArray:
    """Evenly spaced indices of at most ``limit`` of ``n`` points (for scatter plots)."""
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))
