"""Writes on real DuckDB files: keyed and ordered in numpy or SQL alike, under a memory budget."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from belimo_cloud.store import Store
from belimo_cloud.store import writer as writer_module
from belimo_cloud.store.schema import WRITE_MEMORY_LIMIT, connect, size_bytes
from belimo_cloud.store.staging import staged_rows
from belimo_cloud.store.writer import write_chunk

from .helpers import STEP, T0

DPS = ["x", "y", "z"]


def messy(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Rows as no fetch sends them: shuffled, repeated, unknown keys, missing times and values."""
    stamps = pd.Series(T0 + STEP * rng.integers(-3, 40, size=rows)).astype("datetime64[ns, UTC]")
    stamps[rng.random(rows) < 0.05] = pd.NaT
    values = np.round(rng.normal(size=rows), 3)
    values[rng.random(rows) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "datapoint_id": rng.choice([*DPS, "unknown"], size=rows),
            "timestamp": stamps,
            "value": values,
        }
    )


def stored(path: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT datapoint_id, epoch_us(timestamp), value FROM samples ORDER BY ALL"
        ).fetchall()


def write_all(path: Path, frames: list[pd.DataFrame]) -> list[int]:
    with Store(path) as store:
        return [
            store.write_chunk(
                frame,
                device_id="d",
                datapoint_ids=DPS,
                resolution="15m",
                aggregation="last",
                start=T0,
                end=T0 + 32 * STEP,
            )
            for frame in frames
        ]


@pytest.mark.parametrize("seed", range(6))
def test_numpy_and_sql_paths_store_the_same_rows(tmp_path: Path, seed: int) -> None:
    """Numbers go through numpy; the same rows with text values take DuckDB's casts."""
    rng = np.random.default_rng(seed)
    frames = [messy(rng, 300) for _ in range(3)]
    ids = {"x": 1, "y": 2, "z": 3}
    assert all(staged_rows(frame, ids) is not None for frame in frames)
    as_text = [frame.assign(value=frame["value"].astype(object)) for frame in frames]
    assert all(staged_rows(frame, ids) is None for frame in as_text)
    categorical = [
        frame.assign(datapoint_id=frame["datapoint_id"].astype("category")) for frame in frames
    ]

    counts = write_all(tmp_path / "numpy.duckdb", frames)
    assert write_all(tmp_path / "sql.duckdb", as_text) == counts
    assert write_all(tmp_path / "categorical.duckdb", categorical) == counts
    rows = stored(tmp_path / "numpy.duckdb")
    assert rows == stored(tmp_path / "sql.duckdb") == stored(tmp_path / "categorical.duckdb")
    assert rows == model(frames)


def model(frames: list[pd.DataFrame]) -> list[tuple[object, ...]]:
    """The writes by hand: each empties its window, then its last row per key is stored."""
    held: dict[tuple[str, int], float | None] = {}
    lo, hi = int(T0.timestamp() * 1e6), int((T0 + 32 * STEP).timestamp() * 1e6)
    for frame in frames:
        held = {key: v for key, v in held.items() if not lo <= key[1] < hi}
        for dp, ts, value in zip(
            frame["datapoint_id"], frame["timestamp"], frame["value"], strict=True
        ):
            if dp in DPS and not pd.isna(ts):
                held[(dp, ts.value // 1000)] = None if np.isnan(value) else float(value)
    return sorted((dp, ts, v) for (dp, ts), v in held.items())


def test_rows_are_inserted_in_series_and_time_order(tmp_path: Path) -> None:
    frame = messy(np.random.default_rng(9), 500)
    write_all(tmp_path / "s.duckdb", [frame])
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT series_id, timestamp FROM points").fetchall()
    assert rows == sorted(set(rows))


def test_sub_microsecond_times_are_truncated_as_duckdb_does(tmp_path: Path) -> None:
    stamps = pd.Series([T0, T0 + timedelta(microseconds=1)]).astype("datetime64[ns, UTC]")
    stamps = stamps + pd.to_timedelta([400, 700], unit="ns")
    frame = pd.DataFrame({"datapoint_id": ["x", "x"], "timestamp": stamps, "value": [1.0, 2.0]})
    assert staged_rows(frame, {"x": 1}) is None  # left to DuckDB's cast
    assert write_all(tmp_path / "s.duckdb", [frame]) == [2]
    assert [r[1] for r in stored(tmp_path / "s.duckdb")] == [
        int(T0.timestamp() * 1e6),
        int(T0.timestamp() * 1e6) + 1,
    ]


def memory_limit(con: duckdb.DuckDBPyConnection) -> int:
    return size_bytes(str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]))


def cached(con: duckdb.DuckDBPyConnection) -> int:
    """Bytes DuckDB holds in its buffer pool (table blocks, indexes, in-memory data)."""
    return int(con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()[0][0])


def write_windows(con: duckdb.DuckDBPyConnection, windows: int, rows: int = 20_000) -> None:
    rng = np.random.default_rng(0)
    for w in range(windows):
        start = T0 + w * rows * STEP
        stamps = pd.date_range(start, periods=rows, freq="15min", tz="UTC")
        frame = pd.DataFrame(
            {
                "datapoint_id": np.repeat(DPS, rows),
                "timestamp": np.tile(stamps, len(DPS)),
                "value": rng.normal(size=rows * len(DPS)),  # random: blocks barely compress
            }
        )
        write_chunk(
            con,
            frame,
            device_id="d",
            datapoint_ids=DPS,
            resolution="15m",
            aggregation="last",
            start=start,
            end=start + rows * STEP,
        )


def test_writes_keep_duckdb_under_the_write_budget(tmp_path: Path) -> None:
    """DuckDB caches what it writes up to its limit; a write lowers it, then gives it back."""
    con = connect(tmp_path / "s.duckdb", memory_limit="512MB")
    try:
        configured = memory_limit(con)
        write_windows(con, 40)  # 2.4 M rows, about 40 MB of blocks
        assert cached(con) <= WRITE_MEMORY_LIMIT
        assert memory_limit(con) == configured
    finally:
        con.close()


def test_without_the_budget_the_cache_grows_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: the same writes under the configured limit alone."""
    monkeypatch.setattr(writer_module, "WRITE_MEMORY_LIMIT", size_bytes("512MB"))
    con = connect(tmp_path / "s.duckdb", memory_limit="512MB")
    try:
        write_windows(con, 40)
        assert cached(con) > WRITE_MEMORY_LIMIT
    finally:
        con.close()


@pytest.mark.parametrize("limit", ["16MB", "256MB"])
def test_a_write_leaves_the_configured_limit(tmp_path: Path, limit: str) -> None:
    """A store capped below the budget keeps its cap; a larger one gets it back after a write."""
    con = connect(tmp_path / "s.duckdb", memory_limit=limit)
    try:
        before = memory_limit(con)
        write_windows(con, 2, rows=1000)
        assert memory_limit(con) == before
    finally:
        con.close()


def test_a_frame_bigger_than_the_budget_gets_room(tmp_path: Path) -> None:
    """A write of one large frame (not a window) runs under a budget that fits it."""
    con = connect(tmp_path / "s.duckdb", memory_limit="1GB")
    try:
        write_windows(con, 1, rows=1_000_000)  # 3 M rows, about 60 MB as a frame
        rows = con.execute("SELECT count(*) FROM points").fetchall()[0][0]
        assert rows == 3_000_000
    finally:
        con.close()


def test_a_failed_write_gives_the_limit_back_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = connect(tmp_path / "s.duckdb", memory_limit="256MB")
    try:
        before = memory_limit(con)

        def broken(*args: object, **kwargs: object) -> None:
            raise ValueError("coverage bookkeeping failed")

        monkeypatch.setattr(writer_module, "_add_coverage", broken)
        with pytest.raises(ValueError, match="coverage bookkeeping failed"):
            write_windows(con, 1, rows=1000)
        assert memory_limit(con) == before
        assert con.execute("SELECT count(*) FROM points").fetchall()[0][0] == 0
    finally:
        con.close()


def test_a_window_between_two_covered_spans_joins_them(tmp_path: Path) -> None:
    frame = messy(np.random.default_rng(3), 10).iloc[:0]  # coverage only, no samples
    with Store(tmp_path / "s.duckdb") as store:
        for lo, hi in [(0, 8), (16, 24), (30, 40), (8, 16)]:
            store.write_chunk(
                frame,
                device_id="d",
                datapoint_ids=DPS,
                resolution="15m",
                aggregation="last",
                start=T0 + lo * STEP,
                end=T0 + hi * STEP,
            )
        coverage = store.coverage("15m", "last")
    spans = [(T0, T0 + 24 * STEP), (T0 + 30 * STEP, T0 + 40 * STEP)]
    assert coverage == {("d", dp): spans for dp in DPS}


def test_a_series_created_by_a_failed_write_is_not_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Series ids are looked up once per connection, but only those of committed writes."""
    con = connect(tmp_path / "s.duckdb")
    try:

        def broken(*args: object, **kwargs: object) -> None:
            raise ValueError("coverage bookkeeping failed")

        monkeypatch.setattr(writer_module, "_add_coverage", broken)
        with pytest.raises(ValueError, match="coverage bookkeeping failed"):
            write_windows(con, 1, rows=10)
        monkeypatch.undo()
        write_windows(con, 2, rows=10)
        (count,) = con.execute("SELECT count(*) FROM samples").fetchall()[0]
        series = con.execute("SELECT count(*) FROM series").fetchall()[0][0]
    finally:
        con.close()
    assert (count, series) == (2 * 10 * len(DPS), len(DPS))
