"""The store on real DuckDB files: writes, reads, coverage, info, refusal of bad files."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from belimo_cloud.errors import DataError, StoreError
from belimo_cloud.store import SCHEMA_VERSION, Store, default_store_path
from belimo_cloud.store import writer as writer_module

from .helpers import STEP, T0, chunk


def write(
    store: Store,
    frame: pd.DataFrame,
    device: str,
    dps: list[str],
    span: tuple[datetime, int] = (T0, 8),
) -> int:
    """Write ``frame`` as the chunk [start, start + buckets * 15 min)."""
    start, buckets = span
    return store.write_chunk(
        frame,
        device_id=device,
        datapoint_ids=dps,
        resolution="15m",
        aggregation="last",
        start=start,
        end=start + buckets * STEP,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_path_is_in_user_data_dir(isolated_home: Path) -> None:
    path = default_store_path()
    assert path.name == "store.duckdb"
    assert path.parent.name == "belimo"
    assert str(path).startswith(str(isolated_home))


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none.duckdb"
    with Store(path) as store:
        assert store.read().empty
        assert list(store.read().columns) == [
            "device_id",
            "datapoint_id",
            "timestamp",
            "value",
            "resolution",
            "aggregation",
        ]
        info = store.info()
        assert not info.exists and info.rows == 0 and info.series == []
    assert not path.exists()


def test_chunk_round_trip_and_idempotent_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        frame = chunk("dev1", ["evcloud.210", "evcloud.140"], T0, 8)
        assert write(store, frame, "dev1", ["evcloud.210", "evcloud.140"]) == 16
        assert write(store, frame, "dev1", ["evcloud.210", "evcloud.140"]) == 16
        # A late value replaces the earlier one instead of adding a row.
        late = chunk("dev1", ["evcloud.210"], T0, 8, offset=0.5)
        write(store, late, "dev1", ["evcloud.210"])
        got = store.read()
    assert len(got) == 16
    assert str(got["timestamp"].dtype).endswith("UTC]")
    energy = got[got["datapoint_id"] == "evcloud.210"]
    assert energy["value"].tolist() == [i + 0.5 for i in range(8)]
    assert set(got["resolution"]) == {"15m"} and set(got["aggregation"]) == {"last"}
    # Reopening sees the same rows: they were committed to the file.
    with Store(path) as again:
        pd.testing.assert_frame_equal(again.read(), got)


def test_repeated_bucket_in_a_chunk_is_stored_once(tmp_path: Path) -> None:
    frame = chunk("dev1", ["x"], T0, 4)
    doubled = pd.concat([frame, frame.assign(value=frame["value"] + 0.25)], ignore_index=True)
    with Store(tmp_path / "s.duckdb") as store:
        assert write(store, doubled, "dev1", ["x"], (T0, 4)) == 4
        got = store.read()
        assert len(got) == 4
        assert store.coverage("15m", "last") == {("dev1", "x"): [(T0, T0 + 4 * STEP)]}


def test_read_filters_and_pivot(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        write(store, chunk("a", ["x", "y"], T0, 8), "a", ["x", "y"])
        write(store, chunk("b", ["x"], T0, 8), "b", ["x"])
        assert set(store.read(device_ids="a")["datapoint_id"]) == {"x", "y"}
        assert len(store.read(datapoint_ids=["x"])) == 16
        part = store.read(start=T0 + 2 * STEP, end="2024-01-01T01:00:00Z")
        assert part["timestamp"].min() == pd.Timestamp(T0 + 2 * STEP)
        assert part["timestamp"].max() == pd.Timestamp(T0 + 3 * STEP)
        wide = store.read(device_ids=["a"], pivot=True)
        assert list(wide.columns) == ["x", "y"]
        assert wide.index.name == "timestamp" and len(wide) == 8
        assert wide["y"].iloc[0] == 1000.0
        both = store.read(datapoint_ids="x", pivot=True)
        assert [tuple(c) for c in both.columns] == [("a", "x"), ("b", "x")]
        with pytest.raises(DataError):
            store.read(start="not a date")


def test_coverage_merges_adjacent_chunks(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        write(store, chunk("a", ["x"], T0, 4), "a", ["x"], (T0, 4))
        write(store, chunk("a", ["x"], T0 + 8 * STEP, 4), "a", ["x"], (T0 + 8 * STEP, 4))
        assert store.coverage("15m", "last") == {
            ("a", "x"): [(T0, T0 + 4 * STEP), (T0 + 8 * STEP, T0 + 12 * STEP)]
        }
        info = store.info()
        (series,) = info.series
        assert series.gaps == [(T0 + 4 * STEP, T0 + 8 * STEP)]
        assert series.rows == 8 and series.missing_buckets == 4
        write(store, chunk("a", ["x"], T0 + 4 * STEP, 4), "a", ["x"], (T0 + 4 * STEP, 4))
        assert store.coverage("15m", "last") == {("a", "x"): [(T0, T0 + 12 * STEP)]}
        assert store.coverage("1h", "last") == {}


def test_coverage_stops_at_the_settled_boundary(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        store.write_chunk(
            chunk("a", ["x"], T0, 8),
            device_id="a",
            datapoint_ids=["x"],
            resolution="15m",
            aggregation="last",
            start=T0,
            end=T0 + 8 * STEP,
            settled_before=T0 + 5 * STEP,
        )
        assert len(store.read()) == 8  # stored, but the last 3 are not final yet
        assert store.coverage("15m", "last") == {("a", "x"): [(T0, T0 + 5 * STEP)]}
        store.write_chunk(
            chunk("b", ["x"], T0, 8),
            device_id="b",
            datapoint_ids=["x"],
            resolution="15m",
            aggregation="last",
            start=T0,
            end=T0 + 8 * STEP,
            settled_before=T0,
        )
        assert ("b", "x") not in store.coverage("15m", "last")


def test_failed_chunk_leaves_neither_samples_nor_coverage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with Store(tmp_path / "s.duckdb") as store:
        write(store, chunk("a", ["x"], T0, 4), "a", ["x"], (T0, 4))
        monkeypatch.setattr(writer_module, "_add_coverage", boom)
        with pytest.raises(KeyboardInterrupt):
            write(store, chunk("a", ["x"], T0 + 4 * STEP, 4), "a", ["x"], (T0 + 4 * STEP, 4))
        monkeypatch.undo()
        assert len(store.read()) == 4
        assert store.coverage("15m", "last") == {("a", "x"): [(T0, T0 + 4 * STEP)]}


def test_devices_and_catalogue_snapshot(tmp_path: Path) -> None:
    devices = pd.DataFrame(
        {
            "device_id": ["a", "b"],
            "display_name": ["Valve A", "Valve B"],
            "serial_number": ["1", "2"],
            "production_id": ["P1", "P2"],
            "device_type": ["2", "2"],
            "dataprofile": ["energyvalve3/1.2", None],
            "health_state": ["OK", "WARNING"],
            "health_description": [None, "Flow too low"],
            "last_seen": [pd.Timestamp("2026-11-20T11:00:00Z"), pd.NaT],
            "online_days": [10, 0],
            "project_name": ["Demo", "Demo"],
            "address_city": ["Hinwil", "Zurich"],
            "address_country": ["CH", "CH"],
        }
    )
    catalogue = pd.DataFrame(
        {
            "dataprofile": ["energyvalve3/1.2"],
            "datapoint_id": ["evcloud.210"],
            "name": ["Heating_E_J"],
            "description": ["Heating Energy in J"],
            "unit": ["joule"],
            "access": ["r"],
            "basetype": ["real"],
        }
    )
    with Store(tmp_path / "s.duckdb") as store:
        assert store.save_devices(devices) == 2
        store.save_devices(devices.iloc[[0]].assign(display_name="Valve A renamed"))
        assert store.save_catalogue(catalogue) == 1
        got = store.devices()
        assert got["display_name"].tolist() == ["Valve A renamed", "Valve B"]
        assert list(got.columns)[:13] == list(devices.columns)
        assert str(got["last_seen"].dtype).endswith("UTC]")
        assert pd.isna(got["last_seen"].iloc[1])
        pd.testing.assert_frame_equal(store.catalogue(), catalogue, check_dtype=False)
        write(store, chunk("a", ["evcloud.210"], T0, 4), "a", ["evcloud.210"], (T0, 4))
        (series,) = store.info().series
        assert (series.display_name, series.name, series.unit) == (
            "Valve A renamed",
            "Heating_E_J",
            "joule",
        )


def test_info_summary(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        write(store, chunk("a", ["x", "y"], T0, 8), "a", ["x", "y"])
        info = store.info()
    assert info.exists and info.schema_version == SCHEMA_VERSION
    assert info.rows == 16 and len(info.series) == 2
    assert info.size_bytes > 0
    with Store(path) as reopened:
        assert reopened.info().size_bytes == path.stat().st_size
    first = info.series[0]
    assert (first.first, first.last) == (T0, T0 + 7 * STEP)
    assert first.covered == [(T0, T0 + 8 * STEP)] and first.gaps == []
    data = info.to_dict()
    assert data["series"][0]["first"] == "2024-01-01T00:00:00Z"
    assert info.series_frame()["rows"].tolist() == [8, 8]


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        write(store, chunk("a", ["x"], T0, 4), "a", ["x"], (T0, 4))
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_version SET version = ?", [SCHEMA_VERSION + 1])
    con.close()
    before = digest(path)
    with pytest.raises(StoreError, match="newer"):
        Store(path)
    assert digest(path) == before


def test_foreign_duckdb_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a belimo store"):
        Store(path)


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    before = digest(path)
    with pytest.raises(StoreError, match="not a belimo store") as caught:
        Store(path)
    assert "\n" not in str(caught.value)
    assert digest(path) == before


def test_store_locked_by_another_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        write(store, chunk("a", ["x"], T0, 4), "a", ["x"], (T0, 4))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from belimo_cloud.store import Store; "
            "s = Store(sys.argv[1]); s.read(); print('locked', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        before = digest(path)
        with pytest.raises(StoreError, match="in use by another process") as caught:
            Store(path)
        assert "\n" not in str(caught.value)
        assert digest(path) == before
    finally:
        holder.kill()
        holder.wait()
    with Store(path) as store:
        assert len(store.read()) == 4


def test_closed_store_refuses_use(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.read()
