"""Stage 1 of the counter scan: judge each reading (outages, drops, spikes, resets).

Works on grouped, time-sorted arrays (epoch ns, counter units), groups contiguous, with the
series statistics of :mod:`.stats`. One pass over every reading (:mod:`.intervals`) finds
the candidates; only those are judged here. Nothing is copied at full length: the few
readings that are excluded are kept as runs (:mod:`.excluded`), the rare findings in an
event list.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from belimo_cloud.analysis.excluded import Excluded
from belimo_cloud.analysis.intervals import interval_pass
from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.analysis.stats import SeriesStats

__all__ = [
    "OUTAGE",
    "RESET",
    "ROLLOVER",
    "SPIKE",
    "Findings",
    "classify",
]

RESET = 1
ROLLOVER = 2
SPIKE = 4
OUTAGE = 8

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass
class Findings:
    """What the classification found: excluded readings, segment breaks, lasting jumps, events."""

    excluded: Excluded = field(default_factory=Excluded)
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


class _Walker:
    """Neighbour look-ups that skip excluded readings (a run of them in one step)."""

    def __init__(self, lo: I64, hi: I64, found: Findings) -> None:
        self.hi = hi
        self.lo = lo
        self.ex = found.excluded
        # Plain lists: a scalar look-up in them costs a tenth of one in a numpy array, and a
        # series that is not a counter asks hundreds of thousands of them.
        self._lo: list[int] = lo.tolist()
        self._hi: list[int] = hi.tolist()

    def group(self, i: int) -> int:
        return bisect.bisect_right(self._hi, i)

    def prev(self, i: int, g: int) -> int:
        """The alive reading before ``i`` in group ``g``, or -1."""
        return self.ex.used_before(i, self._lo[g])

    def next(self, i: int, g: int) -> int:
        """The alive reading after ``i`` in group ``g``, or -1."""
        return self.ex.used_after(i, self._hi[g])


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
    found.excluded.add_sorted(idx[drop])
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
    small = g[~big]  # ascending, like the falls: distinct where they change
    distinct = np.append(True, small[1:] != small[:-1])[: len(small)]
    found.jitter_groups.update(small[distinct].tolist())
    drops: list[int] = d[big].tolist()
    return drops


def _after_runs(found: Findings, hi: I64) -> list[int]:
    """Readings right after an excluded run (their alive neighbour is further back)."""
    if not found.excluded:
        return []
    ex = found.excluded.array()
    nxt = ex + 1
    # ``ex`` is ascending and distinct: the next one is excluded when it follows directly.
    keep = np.append(ex[1:] != nxt[:-1], True) & ~np.isin(nxt, hi)
    after: list[int] = nxt[keep].tolist()
    return after


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
    passed = interval_pass(t, v, lo, hi, stats=stats, policy=policy)
    found = Findings(raw_gaps=passed.gaps, steps=passed.steps)
    walk = _Walker(lo, hi, found)
    _outages(t, v, passed.bad, lo=lo, hi=hi, stats=stats, found=found)
    _drops(t, v, passed.falls, stats=stats, policy=policy, found=found, walk=walk)
    _jumps(t, v, passed.rises, stats=stats, found=found, walk=walk)
    return found
