"""Stage 4 of the counter scan: the cleaned curve binned into local calendar periods.

Each period's consumption is the curve ``E`` at its end minus ``E`` at its start, so only
the readings around period boundaries are looked at (a day of 15-minute readings costs two
look-ups, not 96). Where a group's readings all come at one interval, the reading before a
boundary is found by arithmetic; elsewhere it is guessed from the cadence and checked.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import tzinfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from belimo_cloud.analysis.counters import GAP, OUTAGE, PARTIAL, SPIKE, Scan, flag_names
from belimo_cloud.analysis.periods import period_bounds
from belimo_cloud.units import convert

__all__ = ["Periods", "bin_periods"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_BOUNDARIES = 1 << 15  # period boundaries evaluated at a time


@dataclass
class Periods:
    """One row per group and local period, groups in order, periods in order within each."""

    group: I64
    period: pd.DatetimeIndex  # local period starts
    consumption: F64  # [the unit asked for]
    coverage: F64
    quality: pd.api.extensions.ExtensionArray  # ``ok`` or the flag names, as ``str``

    def __len__(self) -> int:
        return len(self.group)

    def frame(self) -> pd.DataFrame:
        """Columns ``period``, ``consumption``, ``coverage`` and ``quality``."""
        return pd.DataFrame(
            {
                "period": self.period,
                "consumption": self.consumption,
                "coverage": self.coverage,
                "quality": self.quality,
            }
        )


def _quality_text(bits: npt.NDArray[np.uint8]) -> pd.api.extensions.ExtensionArray:
    """The flag names of each row as a ``str`` array, built in Arrow from the few names.

    The same array pandas infers from Python strings, without creating one object a row.
    """
    top = int(bits.max()) if len(bits) else 0
    names = pa.array([flag_names(b) for b in range(top + 1)], type=pa.string())
    text = pa.DictionaryArray.from_arrays(pa.array(bits), names).dictionary_decode()
    out: pd.api.extensions.ExtensionArray = pd.array(text, dtype="str")
    return out


def _ascending(x: I64) -> I64:
    """The distinct values of ``x`` in ascending order (often already so: then as it is).

    Sorting, not ``np.unique``: its hash table is slow on the million values of a power or
    temperature series, which have a gap every few readings.
    """
    if len(x) < 2 or bool((x[1:] > x[:-1]).all()):
        return x
    x = np.sort(x)
    return np.asarray(x[np.append(True, x[1:] != x[:-1])], dtype=np.int64)


def _ranges(lo: npt.NDArray[np.intp], counts: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Concatenated ``range(lo[i], lo[i] + counts[i])``."""
    total = int(counts.sum())
    return np.repeat(lo, counts) + (
        np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    )


def _guess(sc: Scan, bg: I64, bt: I64, lo: I64, hi: I64) -> tuple[I64, I64]:
    """:func:`_last_at_or_before` for groups whose intervals vary (and their ``t``).

    The index is guessed from the cadence, counting from the group's first reading and then,
    where that is wrong (after a gap), from its last, each guess checked against its two
    neighbours: a few look-ups instead of a binary search through memory. Only groups where
    both guesses fail (irregular readings) are searched, each once: its boundaries are sorted
    and its readings contiguous, so the search stays in cache.
    """
    cad = sc.cadence[bg]
    with np.errstate(invalid="ignore", divide="ignore"):
        ahead = (bt - sc.t[lo]) / cad
        steps = np.floor(np.nan_to_num(ahead, nan=0.0, posinf=0.0, neginf=0.0))
    k = lo + np.clip(steps, -1, hi - lo - 1).astype(np.int64)
    wrong = _misses(sc, k, bt, lo, hi)
    if len(wrong):
        w_bt, w_lo, w_hi = bt[wrong], lo[wrong], hi[wrong]
        with np.errstate(invalid="ignore", divide="ignore"):
            back = (sc.t[w_hi - 1] - w_bt) / cad[wrong]
            steps = np.ceil(np.nan_to_num(back, nan=0.0, posinf=0.0, neginf=0.0))
        k[wrong] = w_hi - 1 - np.clip(steps, 0, w_hi - w_lo).astype(np.int64)
        wrong = wrong[_misses(sc, k[wrong], w_bt, w_lo, w_hi)]
    if len(wrong):
        cuts = np.flatnonzero(np.diff(bg[wrong])) + 1
        for idx in np.split(wrong, cuts):
            a, b = int(lo[idx[0]]), int(hi[idx[0]])
            k[idx] = np.searchsorted(sc.t[a:b], bt[idx], side="right") - 1 + a
    return k, sc.t[np.maximum(k, lo)]


def _misses(sc: Scan, k: I64, bt: I64, lo: I64, hi: I64) -> npt.NDArray[np.intp]:
    """Where ``k`` is not the last reading at or before ``bt`` (``lo - 1``: none)."""
    here = sc.t[np.maximum(k, lo)]
    after = sc.t[np.minimum(k + 1, hi - 1)]
    ok = ((k < lo) | (here <= bt)) & ((k + 1 >= hi) | (after > bt))
    return np.flatnonzero(~ok)


def _segments(
    sc: Scan, groups: I64, counts: I64, bt: I64, *, lo: I64, hi: I64, t0: I64
) -> tuple[I64, I64, I64]:
    """Where a group with a step has gaps: the run of readings between gaps that each
    boundary falls in or after (its first reading, its end and its first time).
    """
    first, end, t0 = lo.copy(), hi.copy(), t0.copy()
    lo_g, hi_g = sc.lo[groups], sc.hi[groups]
    a = np.searchsorted(sc.seams, lo_g, side="right")
    b = np.searchsorted(sc.seams, hi_g, side="left")
    offsets = np.cumsum(counts) - counts
    for i in np.flatnonzero(b > a).tolist():
        rows = slice(int(offsets[i]), int(offsets[i] + counts[i]))
        marks = sc.seams[a[i] : b[i]]
        heads = np.append(lo_g[i], marks)
        at = np.searchsorted(sc.t[marks], bt[rows], side="right")
        first[rows] = heads[at]
        end[rows] = np.append(marks, hi_g[i])[at]
        t0[rows] = sc.t[heads][at]
    return first, end, t0


def _last_at_or_before(
    sc: Scan, groups: I64, counts: I64, bg: I64, bt: I64, *, lo: I64, hi: I64
) -> tuple[I64, I64]:
    """Per boundary ``bt`` of group ``bg``: the last reading ``k`` at or before it (``lo - 1``:
    none), and the time of reading ``max(k, lo)``.

    Where a group's readings all come at one interval (apart from gaps, between which each
    run of readings is), ``k`` and its time are arithmetic (exact, in integers): no look-up
    in the readings at all.
    """
    step = np.repeat(sc.step[groups], counts)
    t0 = np.repeat(sc.t[sc.lo[groups]], counts)
    regular = step > 0
    every = bool(regular.all())
    safe = step if every else np.where(regular, step, 1)
    first, end = lo, hi
    if len(sc.seams):
        first, end, t0 = _segments(sc, groups, counts, bt, lo=lo, hi=hi, t0=t0)
    # Only the run of a group's first reading starts after a boundary; any other run starts
    # at or before the boundaries that fall in it or in the gap after it.
    k = first + np.clip((bt - t0) // safe, -1, end - first - 1)
    here = t0 + (np.maximum(k, first) - first) * safe
    if not every:
        rest = np.flatnonzero(~regular)
        k[rest], here[rest] = _guess(sc, bg[rest], bt[rest], lo[rest], hi[rest])
    return k, here


def _energy_at_bounds(sc: Scan, groups: I64, counts: I64, bt: I64, in_gap: I64 | None) -> F64:
    """The cleaned curve E at each boundary ``bt`` (``counts`` of them per group, in order).

    Between two readings E is interpolated in time, except across a gap (``in_gap``: the
    readings that end an interval inside one; None when gaps are spread).
    """
    bg = np.repeat(groups, counts)
    lo_b = np.repeat(sc.lo[groups], counts)
    hi_b = np.repeat(sc.hi[groups], counts)
    k, t_k = _last_at_or_before(sc, groups, counts, bg, bt, lo=lo_b, hi=hi_b)
    before = k < lo_b
    k_c = np.maximum(k, lo_b)  # k never passes the group's last reading
    e_k = sc.energy_at(k_c, bg)
    e_k = np.where(before, 0.0, e_k)
    # Before the first reading t_k is that reading's time, after the boundary.
    nxt = k_c + 1
    inside = (nxt < hi_b) & (t_k < bt)
    if inside.any():
        ii = np.flatnonzero(inside)
        nn = nxt[ii]
        e_n = sc.energy_at(nn, bg[ii])
        frac = (bt[ii] - t_k[ii]) / (sc.t[nn] - t_k[ii]).astype(np.float64)
        if in_gap is not None:
            at = np.minimum(np.searchsorted(in_gap, nn), len(in_gap) - 1)
            frac = np.where(in_gap[at] == nn, 0.0, frac)
        e_k[ii] = e_k[ii] + frac * (e_n - e_k[ii])
    return np.asarray(e_k, dtype=np.float64)


def bin_periods(
    sc: Scan,
    *,
    freq: str | pd.DateOffset,
    tz: str | tzinfo,
    unit: str,
    to: str,
    spread_gaps: bool,
) -> Periods:
    """Consumption [``to``], coverage and quality per group and local period from a scan.

    Groups without readings have no rows.
    """
    groups = np.flatnonzero(sc.first >= 0)
    if not len(groups):
        empty = np.zeros(0)
        return Periods(
            group=np.zeros(0, dtype=np.int64),
            period=pd.DatetimeIndex([], tz=tz).as_unit("ns"),
            consumption=empty,
            coverage=empty,
            quality=pd.array([], dtype="str"),
        )
    # Periods run from the first to the last reading, excluded or not (an excluded reading's
    # period gets its flag); coverage counts from the first to the last used reading.
    first = sc.t[sc.lo[groups]]
    last = sc.t[sc.hi[groups] - 1]
    starts_idx, bounds = period_bounds(
        pd.Timestamp(int(first.min()), tz="UTC"), pd.Timestamp(int(last.max()), tz="UTC"), freq, tz
    )
    n_b = len(bounds)
    pa_ = np.searchsorted(bounds, first, side="right") - 1
    pb = np.maximum(np.searchsorted(bounds, last, side="left") - 1, pa_)
    pb = np.minimum(pb, n_b - 2)
    n_per = pb - pa_ + 1
    total = int(n_per.sum())
    row_end = np.cumsum(n_per)
    energy = np.empty(total)
    span = np.empty(total)
    lengths = np.empty(total)
    edge = np.empty(total, dtype=bool)
    rj = np.empty(total, dtype=np.int64)
    f_all = sc.t[sc.first[groups]]
    l_all = sc.t[sc.last[groups]]
    cad_all = np.nan_to_num(sc.cadence[groups], nan=0.0)
    in_gap = _ascending(sc.gap_ends) if not spread_gaps and len(sc.gap_ends) else None
    # A chunk of groups at a time: the temporaries stay small (in cache, and not fresh memory
    # from the system for every one of them).
    cnt_all = n_per + 1
    chunk = (np.cumsum(cnt_all) - cnt_all) // _BOUNDARIES
    cuts = [0, *(np.flatnonzero(np.diff(chunk)) + 1).tolist(), len(groups)]
    for a, b in itertools.pairwise(cuts):
        g, cnt, per = groups[a:b], cnt_all[a:b], n_per[a:b]
        # Boundaries to evaluate per group: bounds[pa .. pb + 1].
        bj = _ranges(pa_[a:b], cnt)
        bt = bounds[bj]
        e_k = _energy_at_bounds(sc, g, cnt, bt, in_gap)
        # Consumption: differences of E between consecutive boundaries of the same group.
        keep = np.ones(len(bt) - 1, dtype=bool)
        keep[np.cumsum(cnt)[:-1] - 1] = False
        r0, r1 = int(row_end[a] - per[0]), int(row_end[b - 1])
        np.maximum(np.diff(e_k)[keep], 0.0, out=energy[r0:r1])
        rj[r0:r1] = bj[:-1][keep]
        p_lo, p_hi = bt[:-1][keep], bt[1:][keep]
        f_g = np.repeat(f_all[a:b], per)
        l_g = np.repeat(l_all[a:b], per)
        span[r0:r1] = np.maximum(np.minimum(p_hi, l_g) - np.maximum(p_lo, f_g), 0)
        lengths[r0:r1] = p_hi - p_lo
        # Data that starts or ends within one reading interval of a period's edge (at most
        # 1 % of the period) leaves it complete: `sync --from` a date gives readings from the
        # first bucket's end, one interval after the period starts.
        slack = np.minimum(np.repeat(cad_all[a:b], per), 0.01 * (p_hi - p_lo))
        edge[r0:r1] = (f_g - p_lo > slack) | (p_hi - l_g > slack)
    rg = np.repeat(groups, n_per)
    flags = np.zeros(total, dtype=np.uint8)
    # Row index of (group, period j): offset of the group's rows + (j - pa).
    row_off = np.zeros(len(sc.lo), dtype=np.int64)
    row_off[groups] = np.cumsum(n_per) - n_per
    pa_of = np.zeros(len(sc.lo), dtype=np.int64)
    pa_of[groups] = pa_
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
    coverage = np.clip(span / lengths, 0.0, 1.0)
    flags |= np.where(edge & (coverage < 1.0 - 1e-9), PARTIAL, 0).astype(np.uint8)
    return Periods(
        group=rg,
        period=starts_idx[rj],
        consumption=convert(energy, unit, to, delta=True),
        coverage=coverage,
        quality=_quality_text(flags),
    )
