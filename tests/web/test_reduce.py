"""Min/max reduction keeps every bucket's extremes and the series' ends."""

from __future__ import annotations

import numpy as np

from belimo_cloud.web.reduce import minmax_reduce, thin


def test_short_series_are_kept_whole() -> None:
    x = np.arange(10, dtype=np.int64)
    assert minmax_reduce(x, np.random.default_rng(0).normal(size=10), 5).tolist() == list(range(10))


def test_a_year_at_15_minutes_keeps_its_peaks_in_few_points() -> None:
    rng = np.random.default_rng(1)
    n = 35_040
    x = np.arange(n, dtype=np.int64) * 900_000
    y = rng.normal(size=n)
    spike, dip = 12_345, 30_001
    y[spike], y[dip] = 50.0, -50.0
    keep = minmax_reduce(x, y, 1000)
    assert len(keep) <= 4 * 1000
    assert np.all(np.diff(keep) > 0)
    assert {0, n - 1, spike, dip} <= set(keep.tolist())
    # Every bucket's min and max survive: the reduced envelope equals the full one.
    bucket = np.minimum(((x - x[0]) / ((x[-1] - x[0]) / 1000)).astype(np.int64), 999)
    for b in rng.choice(1000, 20, replace=False):
        members = np.flatnonzero(bucket == b)
        kept = np.intersect1d(members, keep)
        assert y[kept].max() == y[members].max()
        assert y[kept].min() == y[members].min()


def test_gaps_stay_gaps() -> None:
    x = np.arange(1000, dtype=np.int64)
    y = np.where((x > 400) & (x < 600), np.nan, np.sin(x / 50.0))
    keep = minmax_reduce(x, y, 20)
    assert np.isnan(y[keep]).any()
    assert np.nanmax(y[keep]) == np.nanmax(y)


def test_thin_spreads_evenly() -> None:
    idx = thin(10_000, 100)
    assert len(idx) == 100
    assert idx[0] == 0
    assert idx[-1] == 9_999
    assert thin(50, 100).tolist() == list(range(50))
