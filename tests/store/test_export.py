"""Export round trips: CSV and Hive-partitioned Parquet read back by DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from belimo_cloud.errors import DataError, StoreError
from belimo_cloud.store import Store
from belimo_cloud.store import export as export_module

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
        "datapoint_id=evcloud.140/device_id=a",
        "datapoint_id=evcloud.140/device_id=b",
        "datapoint_id=evcloud.210/device_id=a",
        "datapoint_id=evcloud.210/device_id=b",
    ]
    back = (
        duckdb.connect()
        .sql(f"SELECT * FROM read_parquet('{target}/**/*.parquet', hive_partitioning = true)")
        .df()
    )
    assert {"device_id", "datapoint_id", "timestamp", "value"} <= set(back.columns)
    pd.testing.assert_frame_equal(canonical(back), canonical(store.read()))


def test_parquet_keeps_each_series_whole_across_the_new_year(store: Store, tmp_path: Path) -> None:
    """Every file holds whole series in time order: no counter is cut on 1 January."""
    target = tmp_path / "export"
    store.export(target)
    stored = store.read()
    for part in target.glob("*/*/*.parquet"):
        dp = part.parent.parent.name.split("=", 1)[1]
        device = part.parent.name.split("=", 1)[1]
        rows = pq.read_table(part).to_pandas()
        assert rows["timestamp"].is_monotonic_increasing
        whole = stored[(stored["device_id"] == device) & (stored["datapoint_id"] == dp)]
        assert len(rows) == len(whole)
        assert {t.year for t in rows["timestamp"]} == {2024, 2025}


def test_parquet_is_zstd_compressed(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "export"
    store.export(target)
    files = list(target.glob("**/*.parquet"))
    assert files
    for part in files:
        meta = pq.ParquetFile(part).metadata
        codecs = {meta.row_group(0).column(c).compression for c in range(meta.num_columns)}
        assert codecs == {"ZSTD"}


def test_parquet_export_in_small_batches_loses_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "EXPORT_BATCH_ROWS", 1)  # one device per COPY
    target = tmp_path / "export"
    assert store.export(target) == 32
    assert len(list(target.glob("**/*.parquet"))) == 4
    back = duckdb.sql(
        f"SELECT * FROM read_parquet('{target}/**/*.parquet', hive_partitioning = true)"
    ).df()
    pd.testing.assert_frame_equal(canonical(back), canonical(store.read()))


def test_delta_export_round_trips(store: Store, tmp_path: Path) -> None:
    deltalake = pytest.importorskip("deltalake", reason="pip install deltalake to test Delta")
    target = tmp_path / "delta"
    assert store.export(target, format="delta") == 32
    assert (target / "_delta_log").is_dir()
    back = deltalake.DeltaTable(str(target)).to_pyarrow_table().to_pandas()
    pd.testing.assert_frame_equal(canonical(back), canonical(store.read()))
    assert store.export(target, format="delta", overwrite=True) == 32


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
