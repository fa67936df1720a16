"""Stage 2 of the counter scan: the sparse corrections that make the curve non-decreasing.

Readings under their segment's running maximum (jitter) are raised to it, and at each segment
break (a reset, a rollover) and lasting jump the interval gets what the policy says instead
of the raw step: the surrounding rate (the median over the used intervals next to it), the
new reading, nothing, or the range added back. All breaks are judged at once: a series that
is not a counter (power, flow, a temperature) has thousands of them.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.analysis.readings import RESET, ROLLOVER, SPIKE, Findings
from belimo_cloud.analysis.stats import SeriesStats

__all__ = ["corrections", "levels", "running_max"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_NEIGHBOURS = 3  # intervals on each side that give the surrounding rate
_SHORT = 32  # segments of a group below which each is accumulated on its own
_EMPTY = np.empty(0, dtype=np.int64)


def _members(sorted_values: I64, x: I64) -> npt.NDArray[np.bool_]:
    """Which of ``x`` are in ``sorted_values`` (ascending)."""
    if not len(sorted_values):
        return np.zeros(x.shape, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_values, x), len(sorted_values) - 1)
    return np.asarray(sorted_values[at] == x)


def levels(v: F64, ov_pos: I64, ov_val: F64, k: I64) -> F64:
    """The reading at ``k``, or the running maximum where jitter dipped below it."""
    out = np.asarray(v[k], dtype=np.float64)
    if len(ov_pos):
        idx = np.minimum(np.searchsorted(ov_pos, k), len(ov_pos) - 1)
        out = np.where(ov_pos[idx] == k, ov_val[idx], out)
    return out


def _segment_fmax(x: F64, heads: I64) -> F64:
    """``np.fmax.accumulate`` restarting at each of ``heads`` (offsets, the first one 0).

    By doubling (a step per power of two of the longest segment) instead of one call a
    segment: the maximum of a set is the same whatever the order it is taken in.
    """
    seg = np.zeros(len(x), dtype=np.int64)
    seg[heads[1:]] = 1
    seg = np.cumsum(seg)
    longest = int(np.diff(np.append(heads, len(x))).max())
    top = x.copy()
    shift = 1
    while shift < longest:
        same = seg[shift:] == seg[:-shift]
        top[shift:] = np.where(same, np.fmax(top[shift:], top[:-shift]), top[shift:])
        shift *= 2
    return top


def running_max(v: F64, lo: I64, hi: I64, found: Findings) -> tuple[I64, F64]:
    """Readings under their segment's running maximum (jitter) and that maximum."""
    pos: list[I64] = []
    val: list[F64] = []
    if not found.jitter_groups:
        return _EMPTY, np.empty(0)
    cuts = np.asarray(sorted(found.breaks), dtype=np.int64)
    ex = found.excluded.array()
    for g in sorted(found.jitter_groups):
        a, b = int(lo[g]), int(hi[g])
        inner = cuts[np.searchsorted(cuts, a, side="right") : np.searchsorted(cuts, b)]
        seg = v[a:b].copy()
        seg[ex[np.searchsorted(ex, a) : np.searchsorted(ex, b)] - a] = np.nan
        if len(inner) < _SHORT:
            top = np.empty_like(seg)
            edges = [0, *(inner - a).tolist(), b - a]
            for s, e in itertools.pairwise(edges):
                top[s:e] = np.fmax.accumulate(seg[s:e])
        else:
            top = _segment_fmax(seg, np.append(0, inner - a))
        under = np.flatnonzero(seg < top)
        if len(under):
            pos.append(under + a)
            val.append(top[under])
    if not pos:
        return _EMPTY, np.empty(0)
    return np.concatenate(pos), np.concatenate(val)


def _median_rates(
    t: I64, w: tuple[F64, I64, F64], found: Findings, *, ks: I64, qs: I64, lo: I64, hi: I64
) -> tuple[F64, npt.NDArray[np.bool_]]:
    """The median rate [unit/s] of the used intervals around each interval (q, k), and
    whether there is any.

    The readings looked at are those in ``[q - 6, k + 6]`` of the group that are used (all
    between q and k are excluded, so two runs of at most seven), paired with the next used
    one; pairs that end at k, at a break or at a lasting jump are left out.
    """
    v, ov_pos, ov_val = w[0], w[1], w[2]
    side = np.arange(2 * _NEIGHBOURS + 1, dtype=np.int64)
    cand = np.concatenate(
        [qs[:, None] - 2 * _NEIGHBOURS + side[None, :], ks[:, None] + side[None, :]], axis=1
    )
    used = (cand >= lo[:, None]) & (cand < hi[:, None])
    used &= ~_members(found.excluded.array(), cand)
    rows, cols = np.nonzero(used)
    at = cand[rows, cols]
    pair = rows[1:] == rows[:-1]
    a, b, row = at[:-1][pair], at[1:][pair], rows[:-1][pair]
    skip = np.asarray(sorted([*found.breaks, *found.jumps]), dtype=np.int64)
    keep = (b != ks[row]) & ~_members(skip, b)
    a, b, row = a[keep], b[keep], row[keep]
    rise = levels(v, ov_pos, ov_val, b) - levels(v, ov_pos, ov_val, a)
    # ``max(rise, 0.0)`` as Python has it: 0.0 only where 0.0 is greater.
    rates = np.where(rise < 0.0, 0.0, rise) / ((t[b] - t[a]) / 1e9)
    count = np.bincount(row, minlength=len(ks))
    order = np.lexsort((rates, row))
    ranked = rates[order]
    first = np.cumsum(count) - count
    mid = first + count // 2
    has = count > 0
    upper = ranked[np.minimum(mid, len(ranked) - 1)] if len(ranked) else np.zeros(len(ks))
    lower = ranked[np.maximum(mid - 1, 0)] if len(ranked) else np.zeros(len(ks))
    # np.median: the middle value, or the mean of the two middle values.
    median = np.where(count % 2 == 1, upper, (lower + upper) / 2)
    return np.where(has, median, 0.0), has


def corrections(
    t: I64,
    v: F64,
    lo: I64,
    hi: I64,
    *,
    found: Findings,
    stats: SeriesStats,
    policy: CounterPolicy,
    overrides: tuple[I64, F64],
) -> tuple[I64, F64]:
    """Step corrections at each segment break and lasting jump (positions, values [unit]).

    A correction replaces the raw step of the interval (q, k) ending at the break (q the used
    reading before it) by what the interval contributes: the range added back (rollover),
    nothing (reset, policy ``first``), the new reading capped by the bound (``zero``) or the
    surrounding rate times its length, capped by the bound (``rate``, and lasting jumps).
    """
    if not found.breaks and not found.jumps:
        return _EMPTY, np.empty(0)
    ks = np.asarray(sorted([*found.breaks, *found.jumps]), dtype=np.int64)
    kinds = np.asarray([found.breaks.get(k, SPIKE) for k in ks.tolist()], dtype=np.int64)
    qs = np.asarray([found.excluded.used_before(k, 0) for k in ks.tolist()], dtype=np.int64)
    g = np.searchsorted(hi, ks, side="right")
    ov_pos, ov_val = overrides
    w_k, w_q = levels(v, ov_pos, ov_val, ks), levels(v, ov_pos, ov_val, qs)
    dt = (t[ks] - t[qs]) / 1e9
    cap = stats.bound[g] * dt
    median, has = _median_rates(t, (v, ov_pos, ov_val), found, ks=ks, qs=qs, lo=lo[g], hi=hi[g])
    spread = median * dt
    # ``min(x, cap)`` and ``max(x, 0.0)`` as Python has them (the first unless the other wins).
    energy = np.where(has, np.where(cap < spread, cap, spread), 0.0)
    if policy.reset_policy == "first":
        energy = np.where(kinds == RESET, 0.0, energy)
    elif policy.reset_policy == "zero":
        new = np.where(v[ks] < 0.0, 0.0, v[ks])
        energy = np.where(kinds == RESET, np.where(cap < new, cap, new), energy)
    if policy.rollover is not None:
        energy = np.where(kinds == ROLLOVER, v[ks] + policy.rollover - v[qs], energy)
    return ks, np.asarray(energy - (w_k - w_q), dtype=np.float64)
