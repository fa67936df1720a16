"""Cumulative counters cleaned into a non-decreasing energy curve, in named stages.

Works on many counters at once: parallel arrays of time (epoch ns, UTC) and value, sorted by
group then time, groups contiguous. The stages:

1. **classify readings** (:mod:`.readings`): series statistics (:mod:`.stats`: jitter,
   plausibility bound, cadence), one pass over every reading (:mod:`.intervals`), outages,
   spikes, resets and rollovers, implausible rises;
2. **segment**: the cleaned curve ``E`` as sparse corrections of the raw readings (a segment
   break at each reset, the surrounding rate across it, the running maximum under jitter);
3. **gaps**: intervals between used readings clearly longer than the series' cadence.

Binning into calendar periods is done by :mod:`.binning` from the :class:`Scan` this returns.
At every used reading ``k`` of a group the curve is

    E(k) = w[k] - w[first used] + (sum of corrections up to k)

where ``w`` is the reading (or the running maximum where jitter dipped below it); an excluded
reading takes the value interpolated in time between the used readings around it (flat when
they are a gap and gaps are not spread). A period's consumption is ``E(end) - E(start)``, so
periods add up exactly and nothing is ever negative. The policy is
:class:`~belimo_cloud.analysis.policy.CounterPolicy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.analysis.readings import OUTAGE, RESET, ROLLOVER, SPIKE, Findings, classify
from belimo_cloud.analysis.segments import corrections, levels, running_max
from belimo_cloud.analysis.stats import SeriesStats, series_stats

__all__ = [
    "FLAG_NAMES",
    "GAP",
    "OUTAGE",
    "PARTIAL",
    "RESET",
    "ROLLOVER",
    "SPIKE",
    "Scan",
    "flag_names",
    "scan_counters",
]

GAP = 16
PARTIAL = 32
#: Flag bits and names, in the order they are listed in a ``quality`` text.
FLAG_NAMES: tuple[tuple[int, str], ...] = (
    (RESET, "reset"),
    (ROLLOVER, "rollover"),
    (SPIKE, "spike"),
    (OUTAGE, "outage"),
    (GAP, "gap"),
    (PARTIAL, "partial"),
)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_EMPTY = np.empty(0, dtype=np.int64)


def flag_names(bits: int) -> str:
    """``reset,gap`` style text for a set of flag bits; ``ok`` when none is set."""
    names = [name for bit, name in FLAG_NAMES if bits & bit]
    return ",".join(names) if names else "ok"


@dataclass
class Scan:
    """Readings of many counters plus the sparse corrections that clean them.

    ``t``/``v`` are all readings, grouped (group ``g`` is ``[lo[g], hi[g])``); ``first`` and
    ``last`` are each group's first and last used reading (-1: none). ``ov_pos``/``ov_val``
    replace readings by the running maximum (jitter); ``adj_pos``/``adj_val`` are step
    corrections added from that reading on; ``mask_pos`` are excluded readings with the used
    readings around them (``mask_anchor``, ``mask_next``; -1 when none). ``gap_prev`` and
    ``gap_pos`` are the used readings around each gap, ``gap_ends`` every reading index that
    ends an interval inside a gap. ``cadence`` is each group's typical interval [ns] (NaN
    when unknown), ``step`` the one interval between its readings outside gaps (0 when they
    vary) and ``seams`` the readings after a gap in the groups with a step.
    ``events``: arrays ``group``, ``time``, ``end``, ``kind``,
    ``before``, ``after``.
    """

    t: I64
    v: F64
    lo: I64
    hi: I64
    first: I64
    last: I64
    ov_pos: I64
    ov_val: F64
    adj_pos: I64
    adj_val: F64
    mask_pos: I64
    mask_anchor: I64
    mask_next: I64
    gap_prev: I64
    gap_pos: I64
    gap_ends: I64
    spread: bool
    cadence: F64
    step: I64
    seams: I64
    events: dict[str, npt.NDArray[Any]]
    _at_first: tuple[F64, F64, F64, I64] | None = field(default=None, init=False, repr=False)

    def energy_at(self, k: I64, group: I64) -> F64:
        """The cleaned curve E at reading indices ``k`` of groups ``group`` [counter units]."""
        k = np.asarray(k, dtype=np.int64)
        group = np.asarray(group, dtype=np.int64)
        out = self._plain(k, group)
        if not len(self.mask_pos):
            return out
        idx = np.minimum(np.searchsorted(self.mask_pos, k), len(self.mask_pos) - 1)
        hit = np.flatnonzero(self.mask_pos[idx] == k)
        if not len(hit):
            return out
        a, b = self.mask_anchor[idx[hit]], self.mask_next[idx[hit]]
        g = group[hit]
        e_a = np.where(a >= 0, self._plain(np.maximum(a, 0), g), 0.0)
        e_b = np.where(b >= 0, self._plain(np.maximum(b, 0), g), e_a)
        t_a = self.t[np.maximum(a, 0)]
        t_b = self.t[np.maximum(b, 0)]
        span = np.maximum(t_b - t_a, 1).astype(np.float64)
        frac = np.where((a >= 0) & (b >= 0), (self.t[k[hit]] - t_a) / span, 0.0)
        if not self.spread and len(self.gap_ends):
            frac = np.where(np.isin(k[hit], self.gap_ends), 0.0, frac)
        out[hit] = e_a + frac * (e_b - e_a)
        return out

    def _value(self, k: I64) -> F64:
        return levels(self.v, self.ov_pos, self.ov_val, k)

    def _plain(self, k: I64, group: I64) -> F64:
        value, running, cum, owner = self._curve()
        out = self._value(k) - value[group]
        if len(self.adj_pos):
            out = out + _running(cum, owner, self.adj_pos, k, group)
            out = out - running[group]
        return np.asarray(out, dtype=np.float64)

    def _curve(self) -> tuple[F64, F64, F64, I64]:
        """Per group the value and running correction at its first used reading; the running
        sums of the step corrections within each group and each one's group.

        Computed once, when the scan is complete (the curve is read many times). Summed per
        group, not across all: a series then gets bit-for-bit the same numbers alone (on a
        Spark worker) as among a thousand others (on one machine).
        """
        if self._at_first is None:
            groups = np.arange(len(self.lo), dtype=np.int64)
            base = np.maximum(self.first, 0)
            owner = np.searchsorted(self.hi, self.adj_pos, side="right").astype(np.int64)
            cum = np.asarray(
                pd.Series(self.adj_val).groupby(owner, sort=False).cumsum().to_numpy(), np.float64
            )
            value = self._value(base)
            running = (
                _running(cum, owner, self.adj_pos, base, groups)
                if len(self.adj_pos)
                else np.zeros(len(base))
            )
            self._at_first = (value, running, cum, owner)
        return self._at_first


def _running(cum: F64, owner: I64, pos: I64, k: I64, group: I64) -> F64:
    """The group's running sum of corrections at or before reading ``k`` (0 when none)."""
    j = np.searchsorted(pos, k, side="right") - 1
    jj = np.maximum(j, 0)
    return np.where((j >= 0) & (owner[jj] == group), cum[jj], 0.0)


def _seams(found: Findings, hi: I64) -> I64:
    """The readings after a gap in groups whose readings are otherwise at one interval."""
    raw = np.asarray(found.raw_gaps, dtype=np.int64)
    if not len(raw):
        return _EMPTY
    return raw[found.steps[np.searchsorted(hi, raw, side="right")] > 0]


def _alive_bounds(
    lo: I64, hi: I64, mask_pos: I64, mask_anchor: I64, mask_next: I64
) -> tuple[I64, I64]:
    """Each group's first and last used reading (-1 when it has none), from the masks."""
    first = np.where(hi > lo, lo, -1).astype(np.int64)
    last = np.where(hi > lo, hi - 1, -1).astype(np.int64)
    if not len(mask_pos):
        return first, last
    # An excluded first (last) reading: the used one after (before) its run, -1 when none.
    top = len(mask_pos) - 1
    at = np.minimum(np.searchsorted(mask_pos, first), top)
    first = np.where((first >= 0) & (mask_pos[at] == first), mask_next[at], first)
    at = np.minimum(np.searchsorted(mask_pos, last), top)
    last = np.where((last >= 0) & (mask_pos[at] == last), mask_anchor[at], last)
    none = (first < 0) | (last < 0)
    return np.where(none, -1, first), np.where(none, -1, last)


def _masks(found: Findings, lo: I64, hi: I64) -> tuple[I64, I64, I64]:
    """Excluded readings (sorted) with the used readings before and after each run."""
    if not found.excluded:
        return _EMPTY, _EMPTY, _EMPTY
    pos = found.excluded.array()
    g = np.searchsorted(hi, pos, side="right")
    new_run = np.ones(len(pos), dtype=bool)
    new_run[1:] = (np.diff(pos) != 1) | (g[1:] != g[:-1])
    run = np.cumsum(new_run) - 1
    heads = pos[new_run]
    tails = pos[np.append(np.flatnonzero(new_run)[1:] - 1, len(pos) - 1)]
    g_run = g[new_run]
    before = np.where(heads - 1 >= lo[g_run], heads - 1, -1)
    after = np.where(tails + 1 < hi[g_run], tails + 1, -1)
    return pos, before[run].astype(np.int64), after[run].astype(np.int64)


def _segment(sc: Scan, found: Findings, stats: SeriesStats, policy: CounterPolicy) -> None:
    """Stage 2 (:mod:`.segments`): jitter flattened, corrections at breaks and lasting jumps."""
    sc.ov_pos, sc.ov_val = running_max(sc.v, sc.lo, sc.hi, found)
    sc.adj_pos, sc.adj_val = corrections(
        sc.t,
        sc.v,
        sc.lo,
        sc.hi,
        found=found,
        stats=stats,
        policy=policy,
        overrides=(sc.ov_pos, sc.ov_val),
    )


def _gaps(sc: Scan, found: Findings, stats: SeriesStats, policy: CounterPolicy) -> None:
    """Stage 3: intervals between used readings longer than the gap threshold.

    Vectorised: a series that is not a counter (power, a temperature) has thousands of them.
    """
    fixed = policy.gap_ns
    excluded = found.excluded.array()
    raw = np.asarray(found.raw_gaps, dtype=np.int64)
    if len(excluded) and len(raw):
        raw = raw[~np.isin(raw, excluded) & ~np.isin(raw - 1, excluded)]
    prev_parts, end_parts = [raw - 1], [raw]
    mp, ma, mn = sc.mask_pos, sc.mask_anchor, sc.mask_next
    if len(mp):
        heads = np.flatnonzero(np.diff(ma, prepend=-2) != 0)
        p, e = ma[heads], mn[heads]
        ok = (p >= 0) & (e >= 0)
        p, e = p[ok], e[ok]
        g = np.searchsorted(sc.hi, e, side="right")
        limit = (
            np.full(len(e), float(fixed))
            if fixed is not None
            else policy.gap_factor * stats.cadence[g]
        )
        long = (sc.t[e] - sc.t[p]) > limit
        prev_parts.append(p[long])
        end_parts.append(e[long])
    prev = np.concatenate(prev_parts).astype(np.int64)
    ends = np.concatenate(end_parts).astype(np.int64)
    order = np.argsort(ends, kind="stable")
    sc.gap_prev = prev[order]
    sc.gap_pos = ends[order]
    if len(sc.gap_pos):
        counts = sc.gap_pos - sc.gap_prev
        sc.gap_ends = np.repeat(sc.gap_prev + 1, counts) + (
            np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        p, e = sc.gap_prev, sc.gap_pos
        groups = np.searchsorted(sc.hi, e, side="right")
        found.events_of(groups, GAP, (sc.t[p], sc.t[e]), (sc.v[p], sc.v[e]))


def scan_counters(
    group_starts: I64,
    times: I64,
    values: F64,
    *,
    policy: CounterPolicy,
    max_rate: F64 | None = None,
) -> Scan:
    """Classify, segment and find gaps in grouped, time-sorted counters.

    ``group_starts`` are the first index of each group plus ``len(times)`` at the end; times
    are strictly increasing within a group. ``max_rate`` is one nominal rate per group
    [counter unit / s], NaN where unknown (then the bound is derived from the series).
    """
    starts = np.asarray(group_starts, dtype=np.int64)
    lo, hi = starts[:-1], starts[1:]
    rates = np.asarray(max_rate if max_rate is not None else np.empty(0), dtype=np.float64)
    # Out-of-order readings (found by the pass that follows) may divide by zero here first.
    with np.errstate(divide="ignore", invalid="ignore"):
        stats = series_stats(times, values, lo, hi, policy=policy, max_rate=rates)
    found = classify(times, values, lo, hi, stats=stats, policy=policy)
    mask_pos, mask_anchor, mask_next = _masks(found, lo, hi)
    first, last = _alive_bounds(lo, hi, mask_pos, mask_anchor, mask_next)
    sc = Scan(
        t=times,
        v=values,
        lo=lo,
        hi=hi,
        first=first,
        last=last,
        ov_pos=_EMPTY,
        ov_val=np.empty(0),
        adj_pos=_EMPTY,
        adj_val=np.empty(0),
        mask_pos=mask_pos,
        mask_anchor=mask_anchor,
        mask_next=mask_next,
        gap_prev=_EMPTY,
        gap_pos=_EMPTY,
        gap_ends=_EMPTY,
        spread=policy.spread_gaps,
        cadence=stats.cadence,
        step=found.steps,
        seams=_seams(found, hi),
        events={},
    )
    _segment(sc, found, stats, policy)
    _gaps(sc, found, stats, policy)
    ev = found.events
    sc.events = {
        "group": np.asarray(ev["group"], dtype=np.int64),
        "time": np.asarray(ev["time"], dtype=np.int64),
        "end": np.asarray(ev["end"], dtype=np.int64),
        "kind": np.asarray(ev["kind"], dtype=np.uint8),
        "before": np.asarray(ev["before"], dtype=np.float64),
        "after": np.asarray(ev["after"], dtype=np.float64),
    }
    return sc
