"""The one pass of the counter scan over every reading and interval.

It checks the time order and finds the few readings that need a closer look: zero or missing
readings, falls, rises beyond the plausibility bound and gaps. Blocks of intervals go
through buffers that stay in cache; most blocks are dismissed by their extremes alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.analysis.stats import SeriesStats

__all__ = ["Passed", "Unordered", "interval_pass"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_CACHE = 1 << 16  # readings per block of the pass (its buffers stay in cache)


class Unordered(Exception):
    """Readings are not strictly increasing in time within a group (sort, then scan again)."""


@dataclass
class Passed:
    """What the pass over every reading found (reading indices, ascending)."""

    bad: I64  # zero or missing readings
    falls: list[int]  # readings below the one before
    rises: list[int]  # readings above the one before by more than the bound allows
    gaps: list[int]  # readings after an interval longer than the gap threshold
    steps: I64  # per group: the one interval between its readings outside gaps, 0: they vary


def interval_pass(
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
            span = int(t[e] - t[s])
            longest = span - (m - 1) * shortest
            regular, usual = longest == shortest, shortest
            # Intervals compare with the gap as floats, as a float threshold compares.
            if longest > gap and np.float64(most(d)) > gap:
                at = np.flatnonzero(np.greater(d, np.float64(gap), out=hit[:m]))
                gaps.extend((at + s + 1).tolist())
                # Regular apart from its gaps: the other intervals add up to their number
                # times the shortest (a block of gaps only says nothing of the step).
                others = m - len(at)
                regular = not others or span - int(d[at].sum()) == others * shortest
                usual = shortest if others else max(step, 0)
            if step >= 0:
                step = usual if regular and step in (0, usual) else -1
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
            limit = np.multiply(d, scale, out=dt[:m])
            limit += tol
            jumps.extend((np.flatnonzero(np.greater(rise, limit, out=hit[:m])) + s + 1).tolist())
        steps[g] = max(step, 0)
    found_bad = np.concatenate(bad).astype(np.int64) if bad else np.zeros(0, dtype=np.int64)
    return Passed(bad=found_bad, falls=falls, rises=jumps, gaps=gaps, steps=steps)
