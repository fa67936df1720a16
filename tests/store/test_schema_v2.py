"""Schema 2: no index on points, windows replaced in one transaction, memory capped, Arrow."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from belimo_cloud.errors import DataError, StoreError
from belimo_cloud.store import Store

from .helpers import STEP, T0, chunk


def write(store: Store, frame: pd.DataFrame, device: str, dps: list[str], buckets: int) -> int:
    return store.write_chunk(
        frame,
        device_id=device,
        datapoint_ids=dps,
        resolution="15m",
        aggregation="last",
        start=T0,
        end=T0 + buckets * STEP,
    )


def test_points_have_no_index_and_stay_in_series_time_order(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        for device in ("b", "a"):
            write(store, chunk(device, ["y", "x"], T0, 6), device, ["y", "x"], 6)
    with duckdb.connect(str(path), read_only=True) as con:
        indexes = con.execute(
            "SELECT count(*) FROM duckdb_indexes() WHERE table_name = 'points'"
        ).fetchall()[0][0]
        keys = con.execute(
            "SELECT count(*) FROM duckdb_constraints() "
            "WHERE table_name = 'points' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
        ).fetchall()[0][0]
        assert (indexes, keys) == (0, 0)
        assert con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] == 2
        rows = con.execute("SELECT series_id, timestamp FROM points").fetchall()
    # Each window is inserted sorted: within a window, series then time.
    for window in (rows[:12], rows[12:]):
        assert window == sorted(window)


def test_writing_a_window_again_replaces_it(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        assert write(store, chunk("a", ["x", "y"], T0, 8), "a", ["x", "y"], 8) == 16
        assert write(store, chunk("a", ["x", "y"], T0, 8, offset=5), "a", ["x", "y"], 8) == 16
        stored = store.read()
        assert len(stored) == 16
        assert stored.loc[stored["datapoint_id"] == "x", "value"].tolist() == [
            float(i + 5) for i in range(8)
        ]
        # The cloud now has fewer samples in the window: the store follows it.
        assert write(store, chunk("a", ["x"], T0, 3), "a", ["x"], 8) == 3
        assert len(store.read(datapoint_ids="x")) == 3
        assert len(store.read(datapoint_ids="y")) == 8  # another datapoint is untouched


def test_samples_beyond_the_window_replace_only_their_own_rows(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        write(store, chunk("a", ["x"], T0, 8), "a", ["x"], 8)
        late = chunk("a", ["x"], T0 + 6 * STEP, 4, offset=100)  # two rows past the window
        store.write_chunk(
            late,
            device_id="a",
            datapoint_ids=["x"],
            resolution="15m",
            aggregation="last",
            start=T0 + 6 * STEP,
            end=T0 + 8 * STEP,
        )
        stored = store.read()
        assert len(stored) == 10
        assert stored["timestamp"].is_unique
        assert stored["value"].tolist() == [*map(float, range(6)), 100.0, 101.0, 102.0, 103.0]


def test_a_repeated_bucket_is_stored_once_and_the_later_row_wins(tmp_path: Path) -> None:
    frame = chunk("a", ["x"], T0, 4)
    again = frame.iloc[[1]].assign(value=-1.0)
    with Store(tmp_path / "s.duckdb") as store:
        assert write(store, pd.concat([frame, again], ignore_index=True), "a", ["x"], 4) == 4
        assert store.read()["value"].tolist() == [0.0, -1.0, 2.0, 3.0]


def test_memory_limit_is_capped_and_configurable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def limit_mb(store: Store) -> float:
        con = store._reading()
        text = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        number, unit = text.split()
        scale = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit]
        return float(number) * scale

    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        write(store, chunk("a", ["x"], T0, 2), "a", ["x"], 2)
        assert 200 <= limit_mb(store) <= 260  # the 256MB default, in DuckDB's units
    with Store(path, memory_limit="64MB") as store:
        assert 55 <= limit_mb(store) <= 65
    monkeypatch.setenv("BELIMO_STORE_MEMORY_LIMIT", "1GB")
    with Store.open(path, read_only=True) as store:
        assert 900 <= limit_mb(store) <= 1000
    with pytest.raises(StoreError, match="not a size"):
        Store(path, memory_limit="64MB; DROP TABLE points")


def test_read_arrow_streams_what_read_returns(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        for device in ("a", "b"):
            write(store, chunk(device, ["x", "y"], T0, 8), device, ["x", "y"], 8)
        stream = store.read_arrow(device_ids="b", batch_rows=5)
        assert isinstance(stream, pa.RecordBatchReader)
        table = stream.read_all()
        assert table.num_rows == 16
        expected = store.read(device_ids="b")
        assert table.column("value").to_pylist() == expected["value"].tolist()


@pytest.mark.parametrize("by", ["series", "device"])
def test_batches_never_split_a_series_or_device(tmp_path: Path, by: str) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        for device in ("c", "a", "b"):
            write(store, chunk(device, ["x", "y"], T0, 8), device, ["x", "y"], 8)
        batches = list(store.read_batches(by=by, max_rows=20))  # type: ignore[arg-type]
        whole = store.read()
        keys = ["device_id", "datapoint_id", "resolution", "aggregation"]
        for batch in batches:
            assert all(isinstance(batch[k].dtype, pd.CategoricalDtype) for k in keys)
        joined = pd.concat(batches, ignore_index=True).astype(
            dict.fromkeys(keys, whole["device_id"].dtype)
        )
        pd.testing.assert_frame_equal(joined, whole)
        unit = ["device_id"] if by == "device" else ["device_id", "datapoint_id"]
        seen: set[tuple[str, ...]] = set()
        for batch in batches:
            assert len(batch) <= 20 or batch.groupby(unit).ngroups == 1
            keys = set(batch[unit].itertuples(index=False, name=None))
            assert not keys & seen  # no unit appears in two batches
            seen |= keys
        assert len(batches) == 3  # 16-row devices alone, or two 8-row series together
        with pytest.raises(DataError, match="series"):
            list(store.read_batches(by="datapoint"))  # type: ignore[arg-type]


def test_compact_rewrites_in_order_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        for device in ("b", "a"):
            write(store, chunk(device, ["y", "x"], T0, 6), device, ["y", "x"], 6)
        for _ in range(3):  # replaced windows leave free blocks behind in the file
            write(store, chunk("a", ["y", "x"], T0, 6), "a", ["y", "x"], 6)
        before, coverage = store.read(), store.coverage("15m", "last")
        assert store.compact() == 24
        pd.testing.assert_frame_equal(store.read(), before)
        assert store.coverage("15m", "last") == coverage
        rows = store._reading().execute("SELECT series_id, timestamp FROM points").fetchall()
        assert rows == sorted(rows)
        # A series created after compaction gets a fresh id, not one already in use.
        write(store, chunk("c", ["x"], T0, 6), "c", ["x"], 6)
        assert len(store.read(device_ids="c")) == 6
        pd.testing.assert_frame_equal(store.read(device_ids=["a", "b"]), before)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_energy_in_batches_equals_energy_of_the_whole_store(tmp_path: Path) -> None:
    from belimo_cloud.analysis import consumption_frame

    with Store(tmp_path / "s.duckdb") as store:
        for n, device in enumerate(("c", "a", "b")):
            frame = chunk(device, ["x", "y"], T0, 300, offset=1e6 * n)
            frame["value"] = frame["value"] * 3.6e6  # a kWh a bucket, in joule
            write(store, frame, device, ["x", "y"], 300)
        whole = consumption_frame(store.read(), freq="D", tz="Europe/Zurich")
        parts = [
            consumption_frame(batch, freq="D", tz="Europe/Zurich")
            for batch in store.read_batches(max_rows=450)
        ]
    joined = pd.concat(parts, ignore_index=True)
    for key in ("device_id", "datapoint_id"):
        joined[key] = joined[key].astype(whole[key].dtype)
    assert len(parts) == 6  # 300-row series, one a batch
    pd.testing.assert_frame_equal(joined, whole, check_exact=True)
