"""Stage 1 of the counter scan: judge each reading (series statistics, outages, drops, spikes).

Works on grouped, time-sorted arrays (epoch ns, counter units), groups contiguous. Nothing is
copied at full length: the few readings that are excluded go into a set, the rare findings
into an event list; every full pass is a vectorised comparison of neighbours.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from belimo_cloud.analysis.policy import CounterPolicy

__all__ = [
    "OUTAGE",
    "RESET",
    "ROLLOVER",
    "SPIKE",
    "Findings",
    "SeriesStats",
    "Unordered",
    "classify",
    "series_stats",
]

RESET = 1
ROLLOVER = 2
SPIKE = 4
OUTAGE = 8

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_CACHE = 1 << 16  # readings per block of the pass (its buffers stay in cache)
_SAMPLE = 1024  # intervals per series used for its statistics
_CHUNK = 64  # series whose statistics are computed together (temporaries stay in cache)
_REL_RESOLUTION = 1e-9  # float counters cannot resolve less than this share of their level


@dataclass
class SeriesStats:
    """Per group: jitter tolerance [unit], plausible rate [unit/s] (inf: none), cadence [ns]."""

    tol: F64
    bound: F64
    cadence: F64


@dataclass
class Findings:
    """What the classification found: excluded readings, segment breaks, lasting jumps, events."""

    excluded: set[int] = field(default_factory=set)
    breaks: dict[int, int] = field(default_factory=dict)  # reading index -> RESET/ROLLOVER
    jumps: set[int] = field(default_factory=set)
    jitter_groups: set[int] = field(default_factory=set)
    raw_gaps: list[int] = field(default_factory=list)  # readings after a long interval
    # Per group: the one interval between all its readings [ns], 0 when they vary.
    steps: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    events: dict[str, list[Any]] = field(
        default_factory=lambda: {k: [] for k in ("group", "time", "end", "kind", "before", "after")}
    )

    def events_of(
        self, groups: I64, kind: int, span: tuple[I64, I64], values: tuple[F64, F64]
    ) -> None:
        """Record many findings of one kind at once (arrays, one entry per finding)."""
        ev = self.events
        n = len(groups)
        ev["group"].extend(np.asarray(groups, dtype=np.int64).tolist())
        ev["time"].extend(np.asarray(span[0], dtype=np.int64).tolist())
        ev["end"].extend(np.asarray(span[1], dtype=np.int64).tolist())
        ev["kind"].extend([kind] * n)
        ev["before"].extend(np.asarray(values[0], dtype=np.float64).tolist())
        ev["after"].extend(np.asarray(values[1], dtype=np.float64).tolist())

    def event(self, g: int, kind: int, span: tuple[Any, Any], values: tuple[Any, Any]) -> None:
        """Record one finding: its kind, time span [ns] and the levels around it."""
        ev = self.events
        ev["group"].append(g)
        ev["time"].append(int(span[0]))
        ev["end"].append(int(span[1]))
        ev["kind"].append(kind)
        ev["before"].append(float(values[0]))
        ev["after"].append(float(values[1]))


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


class _Walker:
    """Neighbour look-ups that skip excluded readings (they are rare: a set suffices)."""

    def __init__(self, lo: I64, hi: I64, found: Findings) -> None:
        self.hi = hi
        self.lo = lo
        self.ex = found.excluded
        # Plain lists: a scalar look-up in them costs a tenth of one in a numpy array, and a
        # series that is not a counter asks hundreds of thousands of them.
        self._lo = lo.tolist()
        self._hi = hi.tolist()

    def group(self, i: int) -> int:
        return bisect.bisect_right(self._hi, i)

    def prev(self, i: int, g: int) -> int:
        """The alive reading before ``i`` in group ``g``, or -1."""
        j, first = i - 1, self._lo[g]
        while j >= first and j in self.ex:
            j -= 1
        return j if j >= first else -1

    def next(self, i: int, g: int) -> int:
        """The alive reading after ``i`` in group ``g``, or -1."""
        j, end = i + 1, self._hi[g]
        while j < end and j in self.ex:
            j += 1
        return j if j < end else -1


def _bad_runs(bad: I64, starts: I64) -> tuple[I64, I64]:
    """Maximal runs ``[a, b)`` of the bad readings ``bad`` (sorted) within a group."""
    if not len(bad):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cut = np.ones(len(bad), dtype=bool)
    cut[1:] = (np.diff(bad) != 1) | np.isin(bad[1:], starts)
    heads = np.flatnonzero(cut)
    ends = np.append(heads[1:], len(bad))
    return bad[heads].astype(np.int64), (bad[ends - 1] + 1).astype(np.int64)


def _outages(
    t: I64, v: F64, bad: I64, *, lo: I64, hi: I64, stats: SeriesStats, found: Findings
) -> None:
    """Zero or missing runs: an outage when the counter comes back to its level (any length).

    Missing readings are never used. Zeros stay when they are not an outage: a counter that
    never ran reads zero throughout, and a new meter may start at zero. All runs are judged
    at once (a power or temperature series has a run every few readings).
    """
    # Nothing is excluded yet: each run's neighbours are the readings beside it.
    a, b = _bad_runs(bad, lo)
    if not len(a):
        return
    g = np.searchsorted(hi, a, side="right")
    first, end = lo[g], hi[g]
    # Every reading of every run (runs are rare in a counter, a few per day in power).
    counts = b - a
    offsets = np.cumsum(counts) - counts
    idx = np.repeat(a - offsets, counts) + np.arange(int(counts.sum()))
    nan_at = ~np.isfinite(v[idx])
    all_nan = np.add.reduceat(nan_at.astype(np.int64), offsets) == counts
    prev = np.where(a > first, a - 1, -1)
    nxt = np.where(b < end, b, -1)
    tol = stats.tol[g]
    v_prev = v[np.maximum(prev, 0)]
    v_next = v[np.maximum(nxt, 0)]
    dt = (t[np.maximum(nxt, 0)] - t[b - 1]) / 1e9
    with np.errstate(invalid="ignore"):
        # Comparisons with NaN are False, as the scalar rule had them.
        leading = all_nan | (v_next > stats.bound[g] * dt + tol)
        inner = (v_next >= v_prev - tol) | all_nan
    outage = np.where(
        (prev < 0) & (nxt < 0),
        False,
        np.where(nxt < 0, True, np.where(prev < 0, leading, inner)),
    )
    drop = np.repeat(outage, counts) | nan_at
    found.excluded.update(idx[drop].tolist())
    hit = np.flatnonzero(outage)
    if len(hit):
        level = np.where(prev[hit] >= 0, v_prev[hit], np.nan)
        back = np.where(nxt[hit] >= 0, v_next[hit], np.nan)
        found.events_of(g[hit], OUTAGE, (t[a[hit]], t[b[hit] - 1]), (level, back))


def _drop_candidates(
    falls: list[int], v: F64, hi: I64, stats: SeriesStats, found: Findings
) -> list[int]:
    """Readings below the one before by more than the jitter; notes the groups with jitter.

    ``falls`` are the readings below the one before in their group (the interval pass).
    """
    if not falls:
        return []
    d = np.asarray(falls, dtype=np.int64)
    g = np.searchsorted(hi, d, side="right")
    big = v[d] < v[d - 1] - stats.tol[g]
    found.jitter_groups.update(np.unique(g[~big]).tolist())
    return [int(x) for x in d[big]]


def _after_runs(found: Findings, hi: I64) -> list[int]:
    """Readings right after an excluded run (their alive neighbour is further back)."""
    if not found.excluded:
        return []
    ex = np.fromiter(found.excluded, dtype=np.int64)
    nxt = ex + 1
    keep = ~np.isin(nxt, ex) & ~np.isin(nxt, hi)
    return [int(x) for x in nxt[keep]]


def _drops(
    t: I64,
    v: F64,
    falls: list[int],
    *,
    stats: SeriesStats,
    policy: CounterPolicy,
    found: Findings,
    walk: _Walker,
) -> None:
    """Each drop is a spike (a reading above or below its neighbours), a reset or a rollover."""
    cands = _drop_candidates(falls, v, walk.hi, stats, found)
    for d in sorted(set(cands) | set(_after_runs(found, walk.hi))):
        if d in found.excluded:
            continue
        g = walk.group(d)
        q = walk.prev(d, g)
        tol = float(stats.tol[g])
        if q < 0 or not v[d] < v[q] - tol:
            continue
        level = float(v[q])
        p = walk.prev(q, g)
        if p >= 0 and v[p] <= v[d] + tol:
            # The reading before the drop stands out above both neighbours.
            found.excluded.add(q)
            found.event(g, SPIKE, (t[q], t[q]), (v[p], level))
            continue
        run = [d]
        r = walk.next(d, g)
        while r >= 0 and v[r] < level - tol and len(run) < policy.glitch_max:
            run.append(r)
            r = walk.next(r, g)
        if r >= 0 and v[r] >= level - tol:
            found.excluded.update(run)
            found.event(g, SPIKE, (t[run[0]], t[run[-1]]), (level, float(np.min(v[run]))))
            continue
        if p < 0:
            # The first reading is above everything after it: it is the bad one.
            found.excluded.add(q)
            found.event(g, SPIKE, (t[q], t[q]), (np.nan, level))
            continue
        if walk.next(d, g) < 0:
            # A drop at the last reading cannot be told from a bad reading: not used.
            found.excluded.add(d)
            found.event(g, SPIKE, (t[d], t[d]), (level, v[d]))
            continue
        wrap = policy.rollover
        kind = ROLLOVER if wrap is not None and level >= 0.75 * wrap else RESET
        found.breaks[d] = kind
        found.event(g, kind, (t[d], t[d]), (level, v[d]))


class Unordered(Exception):
    """Readings are not strictly increasing in time within a group (sort, then scan again)."""


@dataclass
class Passed:
    """What the pass over every reading found (reading indices, ascending)."""

    bad: I64  # zero or missing readings
    falls: list[int]  # readings below the one before
    rises: list[int]  # readings above the one before by more than the bound allows
    gaps: list[int]  # readings after an interval longer than the gap threshold
    steps: I64  # per group: the one interval between all its readings, 0 when they vary


def _interval_pass(
    t: I64, v: F64, lo: I64, hi: I64, *, stats: SeriesStats, policy: CounterPolicy
) -> Passed:
    """The one pass over every reading: order, bad readings, falls, implausible rises, gaps.

    Raises :class:`Unordered` when a group's times do not strictly increase. A block of
    intervals is looked at one by one only when its extremes allow a finding: its shortest
    interval not positive (out of order), its longest beyond the gap, its smallest change
    below zero (or NaN), its largest rise beyond the bound at its shortest interval (the
    bound grows with the interval, and rounding keeps that order). A block that does not
    fall and starts positive and ends finite has no zero or missing reading either. Findings
    are rare, so most blocks cost two subtractions and four reductions on buffers that stay
    in cache.
    """
    bad: list[I64] = []
    falls: list[int] = []
    jumps: list[int] = []
    gaps: list[int] = []
    fixed = policy.gap_ns
    size = min(_CACHE, max(len(t) - 1, 0))
    dti = np.empty(size, dtype=np.int64)
    dt = np.empty(size, dtype=np.float64)
    dv = np.empty(size, dtype=np.float64)
    hit = np.empty(size, dtype=bool)
    least, most = np.minimum.reduce, np.maximum.reduce
    steps = np.zeros(len(lo), dtype=np.int64)
    # Per-group settings as Python numbers: a numpy scalar costs a microsecond an operation.
    cadences = stats.cadence.tolist()
    scales = (stats.bound / 1e9).tolist()
    tols = stats.tol.tolist()
    plausibles = np.isfinite(stats.bound).tolist()
    for g, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        step = 0  # the one interval of the group so far; -1 once they vary
        if b - a < 2:
            if b - a == 1 and not (np.isfinite(v[a]) and v[a] != 0):
                bad.append(np.array([a], dtype=np.int64))
            continue
        gap = fixed if fixed is not None else policy.gap_factor * cadences[g]
        plausible = plausibles[g]
        scale, tol = scales[g], tols[g]
        monotone = scale >= 0
        for s in range(a, b - 1, _CACHE):
            e = min(s + _CACHE, b - 1)  # intervals (i, i + 1) for i in [s, e)
            m = e - s
            d = np.subtract(t[s + 1 : e + 1], t[s:e], out=dti[:m])
            shortest = int(least(d))
            if shortest <= 0:
                raise Unordered
            # The intervals add up to the block's span and none is below the shortest, so
            # none exceeds the span less the others at their shortest: a bound on the
            # longest without a reduction, the shortest itself exactly when all are equal.
            longest = int(t[e] - t[s]) - (m - 1) * shortest
            if step >= 0:
                step = shortest if longest == shortest and step in (0, shortest) else -1
            if longest > gap and np.float64(most(d)) > gap:
                np.copyto(dt[:m], d, casting="safe")
                gaps.extend((np.flatnonzero(np.greater(dt[:m], gap, out=hit[:m])) + s + 1).tolist())
            rise = np.subtract(v[s + 1 : e + 1], v[s:e], out=dv[:m])
            # A difference is below zero exactly when the later reading is below the earlier.
            lowest = least(rise)
            if not lowest >= 0:
                falls.extend((np.flatnonzero(np.less(rise, 0, out=hit[:m])) + s + 1).tolist())
            # Readings s .. e - 1 here (and e at the group's end): between v[s] and v[e] when
            # nothing falls, so positive and finite when those two are.
            if not (lowest >= 0 and v[s] > 0 and v[e] < np.inf):
                x = v[s : e + 1] if e == b - 1 else v[s:e]
                found = np.flatnonzero(~np.isfinite(x) | (x == 0))
                if len(found):
                    bad.append(found + s)
            if not plausible:
                continue
            # NaN in the block (max is NaN) looks at every interval, as does a negative bound.
            if monotone and most(rise) <= float(shortest) * scale + tol:
                continue
            np.copyto(dt[:m], d, casting="safe")
            dt[:m] *= scale
            dt[:m] += tol
            if np.greater(rise, dt[:m], out=hit[:m]).any():
                jumps.extend((np.flatnonzero(hit[:m]) + s + 1).tolist())
        steps[g] = max(step, 0)
    found_bad = np.concatenate(bad).astype(np.int64) if bad else np.zeros(0, dtype=np.int64)
    return Passed(bad=found_bad, falls=falls, rises=jumps, gaps=gaps, steps=steps)


def _jumps(
    t: I64, v: F64, cands: list[int], *, stats: SeriesStats, found: Findings, walk: _Walker
) -> None:
    """Increases beyond the plausibility bound: a bad first, last or leading-zero reading is
    excluded; a lasting step inside the series is replaced by the surrounding rate."""
    for k in sorted(set(cands) | set(_after_runs(found, walk.hi))):
        if k in found.excluded or k in found.breaks:
            continue
        g = walk.group(k)
        q = walk.prev(k, g)
        if q < 0:
            continue
        rise = float(v[k] - v[q])
        if not rise > stats.bound[g] * (t[k] - t[q]) / 1e9 + stats.tol[g]:
            continue
        if walk.next(k, g) < 0:
            found.excluded.add(k)
            found.event(g, SPIKE, (t[k], t[k]), (v[q], v[k]))
            continue
        first = int(walk.lo[g])
        seg = v[first:k]
        real = [
            i
            for i in (np.flatnonzero(np.isfinite(seg) & (seg != 0)) + first).tolist()
            if i not in found.excluded
        ]
        if walk.prev(q, g) < 0 or not real:
            # Everything before is one bad first reading or a run of zeros: not the counter.
            before = [i for i in range(first, k) if i not in found.excluded]
            kind = SPIKE if real else OUTAGE
            found.excluded.update(before)
            found.event(g, kind, (t[before[0]], t[before[-1]]), (np.nan, v[q]))
            continue
        found.jumps.add(k)
        found.event(g, SPIKE, (t[k], t[k]), (v[q], v[k]))


def classify(
    t: I64, v: F64, lo: I64, hi: I64, *, stats: SeriesStats, policy: CounterPolicy
) -> Findings:
    """Stage 1: outages, then drops (spikes, resets, rollovers), then implausible rises."""
    passed = _interval_pass(t, v, lo, hi, stats=stats, policy=policy)
    found = Findings(raw_gaps=passed.gaps, steps=passed.steps)
    walk = _Walker(lo, hi, found)
    _outages(t, v, passed.bad, lo=lo, hi=hi, stats=stats, found=found)
    _drops(t, v, passed.falls, stats=stats, policy=policy, found=found, walk=walk)
    _jumps(t, v, passed.rises, stats=stats, found=found, walk=walk)
    return found
