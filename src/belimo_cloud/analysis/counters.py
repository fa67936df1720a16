"""Cumulative counters cleaned into a non-negative energy curve: glitches, resets, gaps, jumps.

Works on many counters at once: parallel arrays of time (epoch ns, UTC) and value, sorted by
group then time, with groups contiguous. The work is a few vectorised passes over all
readings to find the rare places where something happens (a drop, a gap, a missing value, a
jump); every correction is then sparse. The cleaned counter is the curve

    E(k) = v[k] - v[first of group] + (sum of step corrections up to k)

at every accepted reading k (a masked glitch reading takes the value of the reading before
it), so a period's consumption is E(end) - E(start): additive across periods by construction.

The policy (DOMAIN.md section 2):

- a short dip (at most ``glitch_max`` readings, e.g. a zero or NaN) that returns to the level
  before is a glitch: its readings are ignored, no reset is counted, no spike; a single
  reading above the next one while its neighbours are in order is a glitch too;
- a lasting drop is a reset or meter replacement: the new counter is counted from zero
  (``reset="zero"``) or from its first reading (``reset="first"``); never negative. A lasting
  drop to 90 % of the level or more re-bases the counter instead (flagged glitch), because
  counting it from zero would add almost the whole lifetime at once;
- with ``rollover`` (the counter's wrap value, e.g. 2**32), a drop from the top quarter of
  the range wraps: the range is added back;
- an interval longer than ``gap`` without readings (or a run of more than ``glitch_max``
  missing values) is a gap; its increase is kept;
- with ``max_rate`` (counter units per second, e.g. the nominal power in W for a J counter),
  an increase above ``max_rate * seconds * margin`` is a jump: excluded and reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from belimo_cloud.errors import DataError

__all__ = [
    "FLAG_NAMES",
    "GAP",
    "GLITCH",
    "JUMP",
    "PARTIAL",
    "RESET",
    "ROLLOVER",
    "Scan",
    "flag_names",
    "scan_counters",
]

RESET = 1
ROLLOVER = 2
GLITCH = 4
JUMP = 8
GAP = 16
PARTIAL = 32
FLAG_NAMES: tuple[tuple[int, str], ...] = (
    (RESET, "reset"),
    (ROLLOVER, "rollover"),
    (GLITCH, "glitch"),
    (JUMP, "jump"),
    (GAP, "gap"),
    (PARTIAL, "partial"),
)
_REBASE_SHARE = 0.9
_BLOCK = 1 << 22  # readings per block of the full passes (bounded temporaries)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B1 = npt.NDArray[np.bool_]


def flag_names(bits: int) -> str:
    """``reset,gap`` style text for a set of flag bits; ``ok`` when none is set."""
    names = [name for bit, name in FLAG_NAMES if bits & bit]
    return ",".join(names) if names else "ok"


@dataclass
class Scan:
    """Accepted readings of many counters plus the sparse corrections that clean them.

    ``t``/``v`` hold the finite readings, grouped; group ``g`` is ``[lo[g], hi[g])`` (empty when
    it has none). ``adj_pos``/``adj_val`` are step corrections (added from that reading on).
    ``mask_pos`` are glitch readings: E there is interpolated in time between ``mask_anchor``
    (the reading before the glitch) and ``mask_next`` (the reading it came back at), as if
    the glitch reading were absent.
    ``gap_pos`` are readings that end a gap (the gap is ``(t[gap_prev], t[gap_pos])``).
    ``events`` are the findings: index arrays ``group``, ``time``, ``end``, ``kind`` (a flag
    bit), ``before``, ``after`` (counter units).
    """

    t: I64
    v: F64
    lo: I64
    hi: I64
    adj_pos: I64
    adj_val: F64
    mask_pos: I64
    mask_anchor: I64
    mask_next: I64
    gap_pos: I64
    gap_prev: I64
    events: dict[str, npt.NDArray[Any]]

    def energy_at(self, k: I64, group: I64) -> F64:
        """The cleaned curve E at reading indices ``k`` of groups ``group`` [counter units]."""
        k = np.asarray(k, dtype=np.int64)
        group = np.asarray(group, dtype=np.int64)
        out = self._plain(k, group)
        if len(self.mask_pos):
            idx = np.minimum(np.searchsorted(self.mask_pos, k), len(self.mask_pos) - 1)
            hit = np.flatnonzero(self.mask_pos[idx] == k)
            if len(hit):
                a, b = self.mask_anchor[idx[hit]], self.mask_next[idx[hit]]
                e_a, e_b = self._plain(a, group[hit]), self._plain(b, group[hit])
                frac = (self.t[k[hit]] - self.t[a]) / (self.t[b] - self.t[a]).astype(np.float64)
                out[hit] = e_a + frac * (e_b - e_a)
        return out

    def _plain(self, k: I64, group: I64) -> F64:
        base = self.lo[group]
        out = self.v[k] - self.v[base]
        if len(self.adj_pos):
            cum = np.concatenate(([0.0], np.cumsum(self.adj_val)))
            out = out + cum[np.searchsorted(self.adj_pos, k, side="right")]
            out = out - cum[np.searchsorted(self.adj_pos, base, side="right")]
        return np.asarray(out, dtype=np.float64)


def _sorted_unique(a: npt.NDArray[Any]) -> I64:
    return np.unique(np.asarray(a, dtype=np.int64))


def scan_counters(
    group_starts: I64,
    times: I64,
    values: F64,
    *,
    gap_ns: int,
    glitch_max: int = 3,
    reset: str = "zero",
    rollover: float | None = None,
    max_rate: float | F64 | None = None,
    margin: float = 1.5,
) -> Scan:
    """Find glitches, resets, rollovers, gaps and jumps in grouped, time-sorted counters.

    ``group_starts`` are the first index of each group plus ``len(times)`` at the end; times
    are strictly increasing within a group. ``max_rate`` is a scalar or one value per group
    [counter unit / s], NaN when unknown.
    """
    if reset not in ("zero", "first"):
        raise DataError(f"reset policy must be 'zero' or 'first', got {reset!r}")
    # Gaps in the timestamps themselves (before dropping missing values).
    raw_gap = _gaps_in_times(times, group_starts, gap_ns)
    finite = np.isfinite(values)
    nan_events: dict[str, list[npt.NDArray[Any]]] = {"time": [], "group": [], "value": []}
    if bool(finite.all()):
        t, v, starts = times, values, np.asarray(group_starts, dtype=np.int64)
        gap_after_compact = raw_gap
        long_nan_gap = np.empty(0, dtype=np.int64)
    else:
        keep = np.flatnonzero(finite)
        t, v = times[keep], values[keep]
        starts = np.searchsorted(keep, group_starts).astype(np.int64)
        # A present timestamp gap ending at raw index i ends the compact interval at the
        # first kept index >= i.
        gap_after_compact = np.searchsorted(keep, raw_gap)
        long_nan_gap, short = _nan_runs(finite, group_starts, keep, glitch_max)
        nan_events["time"].append(times[short])
        grp_of = np.searchsorted(group_starts, short, side="right") - 1
        nan_events["group"].append(grp_of)
        nan_events["value"].append(values[short])
    lo, hi = starts[:-1], starts[1:]
    m = len(t)
    group_first = np.zeros(m + 1, dtype=bool)
    group_first[lo[lo < hi]] = True
    group_first = group_first[:m]
    hi_sorted = np.asarray(hi, dtype=np.int64)

    def group_of(i: int) -> int:
        return int(np.searchsorted(hi_sorted, i, side="right"))

    # Drops: the only places where glitches, resets and rollovers can be.
    drops = _drops(v, group_first)
    mask: list[int] = []
    anchor: list[int] = []
    recover: list[int] = []
    adj_pos: list[int] = []
    adj_val: list[float] = []
    ev: dict[str, list[Any]] = {k: [] for k in ("group", "time", "end", "kind", "before", "after")}
    masked_upto = -1
    special: dict[int, float] = {}  # reading index -> increment into it after corrections
    for d in drops.tolist():
        if d <= masked_upto:
            continue
        q = d - 1
        g = group_of(d)
        g_lo, g_hi = int(lo[g]), int(hi[g])
        # A single spike above the next reading while its neighbours are in order.
        if q > g_lo and v[q - 1] <= v[d]:
            mask.append(q)
            anchor.append(q - 1)
            recover.append(d)
            special[d] = float(v[d] - v[q - 1])
            _event(ev, g, GLITCH, (t[q], t[q]), (v[q - 1], v[q]))
            continue
        # A dip that comes back to the level within glitch_max readings.
        level = v[q]
        back = -1
        for r in range(d + 1, min(d + glitch_max + 1, g_hi)):
            if v[r] >= level:
                back = r
                break
        if back > 0:
            for k in range(d, back):
                mask.append(k)
                anchor.append(q)
                recover.append(back)
                _event(ev, g, GLITCH, (t[k], t[k]), (level, v[k]))
            special[back] = float(v[back] - level)
            masked_upto = back - 1
            continue
        before, after = float(v[q]), float(v[d])
        new_inc = 0.0
        if rollover is not None and before >= 0.75 * rollover:
            new_inc, kind = after + rollover - before, ROLLOVER
        elif after >= _REBASE_SHARE * before:
            kind = GLITCH  # a re-based reading, not a new meter
        else:
            new_inc = max(after, 0.0) if reset == "zero" else 0.0
            kind = RESET
        adj_pos.append(d)
        adj_val.append(new_inc - (after - before))
        special[d] = new_inc
        _event(ev, g, kind, (t[d], t[d]), (before, after))

    # Gaps (timestamps far apart, or long runs of missing values), on the compact index.
    gap_pos = _sorted_unique(np.concatenate((gap_after_compact, long_nan_gap)))
    gap_pos = gap_pos[(gap_pos < m) & ~group_first[np.minimum(gap_pos, max(m - 1, 0))]]
    gap_prev = gap_pos - 1
    if mask:
        mk = np.asarray(mask, dtype=np.int64)
        an = np.asarray(anchor, dtype=np.int64)
        order = np.argsort(mk)
        mask_pos, mask_anchor = mk[order], an[order]
        mask_next = np.asarray(recover, dtype=np.int64)[order]
        # A gap that ends right after a glitch starts at the level before the glitch.
        idx = np.minimum(np.searchsorted(mask_pos, gap_prev), len(mask_pos) - 1)
        hit = mask_pos[idx] == gap_prev
        gap_prev = np.where(hit, mask_anchor[idx], gap_prev)
    else:
        mask_pos = mask_anchor = mask_next = np.empty(0, dtype=np.int64)
    for p, e in zip(gap_prev.tolist(), gap_pos.tolist(), strict=True):
        _event(ev, group_of(e), GAP, (t[p], t[e]), (v[p], v[e]))

    # Jumps: increases above what the nominal power allows.
    if max_rate is not None:
        rate = np.asarray(max_rate, dtype=np.float64)
        masked_set = set(mask)
        jumps = _jumps(t, v, group_first, (lo, hi), rate, margin=margin, masked=masked_set)
        for d, inc in special.items():
            prev = d - 1
            while prev in masked_set:
                prev -= 1
            rate_d = float(rate[group_of(d)]) if rate.ndim else float(rate)
            if np.isfinite(rate_d) and inc > rate_d * (t[d] - t[prev]) / 1e9 * margin:
                jumps[d] = inc
        for d in sorted(jumps):
            inc = jumps[d]
            adj_pos.append(d)
            adj_val.append(-inc)
            _event(ev, group_of(d), JUMP, (t[d], t[d]), (v[d - 1], inc))
    ap = np.asarray(adj_pos, dtype=np.int64)
    av = np.asarray(adj_val, dtype=np.float64)
    order = np.argsort(ap, kind="stable")
    for i, (tt, gg, vv) in enumerate(
        zip(nan_events["time"], nan_events["group"], nan_events["value"], strict=True)
    ):
        del i
        for a, b, c in zip(tt.tolist(), gg.tolist(), vv.tolist(), strict=True):
            _event(ev, int(b), GLITCH, (a, a), (np.nan, c))
    events: dict[str, npt.NDArray[Any]] = {
        "group": np.asarray(ev["group"], dtype=np.int64),
        "time": np.asarray(ev["time"], dtype=np.int64),
        "end": np.asarray(ev["end"], dtype=np.int64),
        "kind": np.asarray(ev["kind"], dtype=np.uint8),
        "before": np.asarray(ev["before"], dtype=np.float64),
        "after": np.asarray(ev["after"], dtype=np.float64),
    }
    return Scan(
        t=t,
        v=v,
        lo=np.asarray(lo, dtype=np.int64),
        hi=np.asarray(hi, dtype=np.int64),
        adj_pos=ap[order],
        adj_val=av[order],
        mask_pos=mask_pos,
        mask_anchor=mask_anchor,
        mask_next=mask_next,
        gap_pos=gap_pos.astype(np.int64),
        gap_prev=gap_prev.astype(np.int64),
        events=events,
    )


def _event(
    ev: dict[str, list[Any]], g: int, kind: int, span: tuple[Any, Any], values: tuple[Any, Any]
) -> None:
    ev["group"].append(g)
    ev["time"].append(int(span[0]))
    ev["end"].append(int(span[1]))
    ev["kind"].append(kind)
    ev["before"].append(float(values[0]))
    ev["after"].append(float(values[1]))


def _gaps_in_times(times: I64, group_starts: I64, gap_ns: int) -> I64:
    """Indices i whose interval from i - 1 is longer than ``gap_ns`` (within a group).

    Times must increase within each group (the caller sorts); across a group start the
    difference is meaningless and those indices are dropped.
    """
    found: list[I64] = []
    n = len(times)
    buf = np.empty(min(_BLOCK, max(n - 1, 0)), dtype=np.int64)
    for lo in range(0, max(n - 1, 0), _BLOCK):
        hi = min(lo + _BLOCK, n - 1)
        dt = buf[: hi - lo]
        np.subtract(times[lo + 1 : hi + 1], times[lo:hi], out=dt)
        hit = np.flatnonzero(dt > gap_ns)
        if len(hit):
            found.append(hit + lo + 1)
    if not found:
        return np.empty(0, dtype=np.int64)
    idx = np.concatenate(found).astype(np.int64)
    return idx[~np.isin(idx, group_starts)]


def _drops(v: F64, group_first: B1) -> I64:
    """Indices d where the reading is below the one before, in the same group."""
    found: list[I64] = []
    n = len(v)
    for lo in range(0, max(n - 1, 0), _BLOCK):
        hi = min(lo + _BLOCK, n - 1)
        hit = np.flatnonzero(v[lo + 1 : hi + 1] < v[lo:hi])
        if len(hit):
            found.append(hit + lo + 1)
    if not found:
        return np.empty(0, dtype=np.int64)
    idx = np.concatenate(found).astype(np.int64)
    return idx[~group_first[idx]]


def _nan_runs(finite: B1, group_starts: I64, keep: I64, glitch_max: int) -> tuple[I64, I64]:
    """Runs of missing values: compact indices that end long runs, raw indices of short ones.

    A short run between two readings of the same group is a glitch; leading and trailing
    runs are no finding; a long run is a gap ending at the next reading.
    """
    missing = ~finite
    n = len(finite)
    boundary = np.zeros(n + 1, dtype=bool)
    boundary[group_starts] = True
    start = missing & (np.concatenate(([True], ~missing[:-1])) | boundary[:-1])
    run_starts = np.flatnonzero(start)
    gid = np.searchsorted(group_starts, run_starts, side="right") - 1
    g_end = group_starts[gid + 1]
    # Each run ends at the first finite reading after it or at its group's end.
    next_fin = np.searchsorted(keep, run_starts)
    if len(keep):
        nf = np.where(next_fin < len(keep), keep[np.minimum(next_fin, len(keep) - 1)], n)
    else:
        nf = np.full(len(run_starts), n, dtype=np.int64)
    run_end = np.minimum(nf, g_end)
    lengths = run_end - run_starts
    interior = (run_starts > group_starts[gid]) & (nf < g_end)
    long_runs = interior & (lengths > glitch_max)
    short_runs = interior & ~long_runs
    long_end_compact = next_fin[long_runs].astype(np.int64)
    if short_runs.any():
        s, ln = run_starts[short_runs], lengths[short_runs]
        short_idx = np.repeat(s, ln) + (
            np.arange(int(ln.sum())) - np.repeat(np.cumsum(ln) - ln, ln)
        )
    else:
        short_idx = np.empty(0, dtype=np.int64)
    return long_end_compact, short_idx.astype(np.int64)


def _jumps(
    t: I64,
    v: F64,
    group_first: B1,
    bounds: tuple[I64, I64],
    rate: F64,
    *,
    margin: float,
    masked: set[int],
) -> dict[int, float]:
    """Increases above ``rate * dt * margin`` between plain consecutive readings."""
    hits: list[I64] = []
    if rate.ndim:
        # One rate per group: slice per group (the rate is a scalar within the slice).
        for g, (lo, hi) in enumerate(zip(bounds[0].tolist(), bounds[1].tolist(), strict=True)):
            r = float(rate[g])
            if hi - lo < 2 or not np.isfinite(r):
                continue
            inc = v[lo + 1 : hi] - v[lo : hi - 1]
            dt = (t[lo + 1 : hi] - t[lo : hi - 1]) / 1e9
            hits.append(np.flatnonzero(inc > r * dt * margin) + lo + 1)
    else:
        n = len(v)
        r = float(rate)
        for lo in range(0, max(n - 1, 0), _BLOCK):
            hi = min(lo + _BLOCK, n - 1)
            inc = v[lo + 1 : hi + 1] - v[lo:hi]
            dt = (t[lo + 1 : hi + 1] - t[lo:hi]) / 1e9
            hits.append(np.flatnonzero(inc > r * dt * margin) + lo + 1)
    out: dict[int, float] = {}
    for part in hits:
        for i in part.tolist():
            if not group_first[i] and i not in masked and i - 1 not in masked:
                out[i] = float(v[i] - v[i - 1])
    return out
