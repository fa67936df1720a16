"""Export round trips: CSV and Hive-partitioned Parquet read back by DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from belimo_cloud.errors import DataError, StoreError
from belimo_cloud.store import Store

from .helpers import STEP, chunk

NEW_YEAR = datetime(2024, 12, 31, 23, 0, tzinfo=UTC)  # the chunks straddle two years


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "s.duckdb")
    for device in ("a", "b"):
        s.write_chunk(
            chunk(device, ["evcloud.210", "evcloud.140"], NEW_YEAR, 8),
            device_id=device,
            datapoint_ids=["evcloud.210", "evcloud.140"],
            resolution="15m",
            aggregation="last",
            start=NEW_YEAR,
            end=NEW_YEAR + 8 * STEP,
        )
    return s


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    cols = ["device_id", "datapoint_id", "timestamp", "value", "resolution", "aggregation"]
    out = frame[cols].copy()
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True).astype("datetime64[us, UTC]")
    out["value"] = out["value"].astype("float64")
    for col in ("device_id", "datapoint_id", "resolution", "aggregation"):
        out[col] = out[col].astype(str)
    return out.sort_values(cols[:3]).reset_index(drop=True)


def test_parquet_is_hive_partitioned_and_round_trips(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "export"
    assert store.export(target, format="parquet") == 32
    dirs = sorted(p.relative_to(target).as_posix() for p in target.glob("*/*") if p.is_dir())
    assert dirs == [
        "datapoint_id=evcloud.140/year=2024",
        "datapoint_id=evcloud.140/year=2025",
        "datapoint_id=evcloud.210/year=2024",
        "datapoint_id=evcloud.210/year=2025",
    ]
    back = (
        duckdb.connect()
        .sql(f"SELECT * FROM read_parquet('{target}/**/*.parquet', hive_partitioning = true)")
        .df()
    )
    assert {"device_id", "datapoint_id", "timestamp", "value", "year"} <= set(back.columns)
    pd.testing.assert_frame_equal(canonical(back), canonical(store.read()))


def test_csv_round_trips(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "out" / "samples.csv"
    assert store.export(target, format="csv") == 32
    header = target.read_text().splitlines()[0]
    assert header == "device_id,datapoint_id,timestamp,value,resolution,aggregation"
    assert target.read_text().splitlines()[1].split(",")[2].endswith("Z")
    back = duckdb.connect().sql(f"SELECT * FROM read_csv('{target}')").df()
    pd.testing.assert_frame_equal(canonical(back), canonical(store.read()))


def test_export_filters(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "one.csv"
    assert store.export(target, format="csv", device_ids=["a"], datapoint_ids="evcloud.210") == 8


def test_export_refuses_to_clobber(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "export"
    store.export(target)
    with pytest.raises(StoreError, match="already exists"):
        store.export(target)
    assert store.export(target, overwrite=True) == 32
    stranger = tmp_path / "home"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me")
    with pytest.raises(StoreError, match="not a previous Parquet export"):
        store.export(stranger, overwrite=True)
    assert (stranger / "notes.txt").read_text() == "keep me"
    with pytest.raises(DataError, match="format"):
        store.export(tmp_path / "x.json", format="json")
