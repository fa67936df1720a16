"""Batched reads: the series summary, batches of the caller's device groups, keys from Arrow."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from belimo_cloud.errors import DataError
from belimo_cloud.store import Store

from .helpers import STEP, T0, chunk


def write(store: Store, device: str, dps: list[str], buckets: int, resolution: str = "15m") -> None:
    store.write_chunk(
        chunk(device, dps, T0, buckets),
        device_id=device,
        datapoint_ids=dps,
        resolution=resolution,
        aggregation="last",
        start=T0,
        end=T0 + buckets * STEP,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """Devices written out of order (c, a, b), two datapoints each, and a coarser copy of a."""
    opened = Store(tmp_path / "s.duckdb")
    for device, n in (("c", 5), ("a", 7), ("b", 3)):
        write(opened, device, ["y", "x"], n)
    write(opened, "a", ["x"], 2, resolution="1h")
    return opened


def test_series_summary_counts_each_series_in_key_order(store: Store) -> None:
    with store:
        summary = store.series_summary()
        keys = list(
            zip(summary["device_id"], summary["datapoint_id"], summary["resolution"], strict=True)
        )
        assert keys == [
            ("a", "x", "15m"),
            ("a", "x", "1h"),
            ("a", "y", "15m"),
            ("b", "x", "15m"),
            ("b", "y", "15m"),
            ("c", "x", "15m"),
            ("c", "y", "15m"),
        ]
        assert summary["rows"].tolist() == [7, 2, 7, 3, 3, 5, 5]
        assert summary["first"].iloc[0] == pd.Timestamp(T0)
        assert summary["last"].iloc[0] == pd.Timestamp(T0 + 6 * STEP)
        # The same filters as read(): the summary counts what a read returns.
        part = store.series_summary(device_ids=["a", "c"], start=T0 + 4 * STEP, resolution="15m")
        whole = store.read(device_ids=["a", "c"], start=T0 + 4 * STEP, resolution="15m")
        assert int(part["rows"].sum()) == len(whole) == 3 + 3 + 1 + 1
        assert store.series_summary(device_ids=[]).empty


def test_batches_of_given_device_groups_go_in_step(store: Store) -> None:
    with store:
        whole = store.read(resolution="15m")
        groups = [["c"], ["nobody"], ["a", "b"]]
        batches = list(store.read_batches(resolution="15m", groups=groups))
        assert [len(b) for b in batches] == [10, 0, 20]
        # Each batch is what read() gives of its devices, keys categorical.
        for group, batch in zip(groups, batches, strict=True):
            expected = whole[whole["device_id"].isin(group)].reset_index(drop=True)
            keys = ("device_id", "datapoint_id", "resolution", "aggregation")
            assert all(isinstance(batch[k].dtype, pd.CategoricalDtype) for k in keys)
            pd.testing.assert_frame_equal(batch.astype(dict.fromkeys(keys, "str")), expected)
        # An empty batch has the columns and types of a full one.
        assert list(batches[1].columns) == list(batches[0].columns)
        assert batches[1]["timestamp"].dtype == batches[0]["timestamp"].dtype
        # Categories are the batch's own keys, in order.
        assert list(batches[2]["device_id"].cat.categories) == ["a", "b"]
        assert list(batches[2]["datapoint_id"].cat.categories) == ["x", "y"]


def test_a_device_in_two_groups_is_refused(store: Store) -> None:
    with store, pytest.raises(DataError, match="more than one batch group"):
        list(store.read_batches(groups=[["a"], ["a", "b"]]))


def test_batches_by_device_never_split_a_device(store: Store) -> None:
    with store:
        batches = list(store.read_batches(resolution="15m", by="device", max_rows=11))
        devices = [sorted(set(b["device_id"].astype(str))) for b in batches]
        # a (14 rows) alone, larger than a batch; b and c (6 + 10 rows) apart.
        assert devices == [["a"], ["b"], ["c"]]
