"""Compaction copies points a batch of whole series at a time, under a small memory limit."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from belimo_cloud.store import Store
from belimo_cloud.store import compact as compact_module

from .helpers import STEP, T0, chunk


def fill(store: Store) -> None:
    """Series of 6 to 40 points, written out of series order and partly rewritten."""
    for device, buckets in (("c", 6), ("a", 40), ("b", 9)):
        dps = ["y", "x"]
        store.write_chunk(
            chunk(device, dps, T0, buckets),
            device_id=device,
            datapoint_ids=dps,
            resolution="15m",
            aggregation="last",
            start=T0,
            end=T0 + buckets * STEP,
        )
    store.write_chunk(
        chunk("a", ["x"], T0, 20, offset=0.5),
        device_id="a",
        datapoint_ids=["x"],
        resolution="15m",
        aggregation="last",
        start=T0,
        end=T0 + 20 * STEP,
    )


@pytest.mark.parametrize("batch", [1, 15, 30, 10_000])
def test_compaction_in_batches_keeps_every_point_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Batches of one series, of a few, of all; a 40-point series is longer than some."""
    limit = compact_module.COMPACT_MEMORY_LIMIT
    monkeypatch.setattr(compact_module, "ROWS_PER_BYTE", batch / limit)
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        fill(store)
        before, coverage = store.read(), store.coverage("15m", "last")
        assert store.compact() == len(before) == 2 * (6 + 40 + 9)
        pd.testing.assert_frame_equal(store.read(), before)
        assert store.coverage("15m", "last") == coverage
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT series_id, timestamp FROM points").fetchall()
    assert rows == sorted(set(rows))


def test_a_store_capped_below_the_compaction_budget_keeps_its_cap(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path, memory_limit="32MB") as store:
        fill(store)
        before = store.read()
        assert store.compact() == len(before)
        pd.testing.assert_frame_equal(store.read(), before)
