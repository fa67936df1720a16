"""A store of schema 1 opens, migrates in place and keeps every point, even when killed."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from belimo_cloud.store import Store

# Schema 1 exactly as belimo-cloud wrote it: points keyed by (series_id, timestamp).
SCHEMA_V1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE devices (
    device_id VARCHAR PRIMARY KEY, display_name VARCHAR, serial_number VARCHAR,
    production_id VARCHAR, device_type VARCHAR, dataprofile VARCHAR, health_state VARCHAR,
    health_description VARCHAR, last_seen TIMESTAMPTZ, online_days BIGINT,
    project_name VARCHAR, address_city VARCHAR, address_country VARCHAR,
    fetched_at TIMESTAMPTZ
);
CREATE TABLE datapoints (
    dataprofile VARCHAR NOT NULL, datapoint_id VARCHAR NOT NULL, name VARCHAR,
    description VARCHAR, unit VARCHAR, access VARCHAR, basetype VARCHAR,
    PRIMARY KEY (dataprofile, datapoint_id)
);
CREATE SEQUENCE series_ids START 1;
CREATE TABLE series (
    series_id INTEGER PRIMARY KEY, device_id VARCHAR NOT NULL, datapoint_id VARCHAR NOT NULL,
    resolution VARCHAR NOT NULL, aggregation VARCHAR NOT NULL,
    UNIQUE (device_id, datapoint_id, resolution, aggregation)
);
CREATE TABLE points (
    series_id INTEGER NOT NULL, timestamp TIMESTAMPTZ NOT NULL, value DOUBLE,
    PRIMARY KEY (series_id, timestamp)
);
CREATE TABLE sync_state (
    device_id VARCHAR NOT NULL, datapoint_id VARCHAR NOT NULL, resolution VARCHAR NOT NULL,
    aggregation VARCHAR NOT NULL, start TIMESTAMPTZ NOT NULL, "end" TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (device_id, datapoint_id, resolution, aggregation, start)
);
CREATE VIEW samples AS
    SELECT s.device_id, s.datapoint_id, s.resolution, s.aggregation, p.timestamp, p.value
    FROM points p JOIN series s USING (series_id);
INSERT INTO schema_version VALUES (1);
"""


def make_v1_store(path: Path, series: int, buckets: int) -> int:
    """A schema-1 store of ``series`` series x ``buckets`` samples, written out of order."""
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(SCHEMA_V1)
        con.execute(
            "INSERT INTO series SELECT i, 'dev' || (i % 7), 'dp' || i, '15m', 'last' "
            "FROM range(1, ?) t(i)",
            [series + 1],
        )
        con.execute(
            "INSERT INTO points SELECT s, TIMESTAMPTZ '2024-01-01 00:00:00+00' "
            "+ b * INTERVAL 15 MINUTE, s * 1e6 + b FROM range(1, ?) a(s), range(?) c(b) "
            "ORDER BY b DESC, s",
            [series + 1, buckets],
        )
        con.execute(
            "INSERT INTO sync_state SELECT device_id, datapoint_id, '15m', 'last', "
            "TIMESTAMPTZ '2024-01-01 00:00:00+00', "
            "TIMESTAMPTZ '2024-01-01 00:00:00+00' + ? * INTERVAL 15 MINUTE FROM series",
            [buckets],
        )
    return series * buckets


def fingerprint(path: Path) -> tuple[int, float, str]:
    """Row count, value sum and a digest of every (device, datapoint, time, value)."""
    with duckdb.connect(str(path), read_only=True) as con:
        count, total = con.execute("SELECT count(*), sum(value) FROM samples").fetchall()[0]
        rows = con.execute(
            "SELECT device_id, datapoint_id, epoch_us(timestamp), value FROM samples ORDER BY ALL"
        ).fetchall()
    return int(count), float(total), hashlib.sha256(repr(rows).encode()).hexdigest()


def version(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return int(con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0])


def test_a_schema_1_store_migrates_and_keeps_every_point(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    points = make_v1_store(path, series=20, buckets=500)
    before = fingerprint(path)
    with Store(path) as store:
        assert len(store.read()) == points
        info = store.info()
        assert sum(s.rows for s in info.series) == points
        assert store.coverage("15m", "last")  # the sync state survives too
    assert version(path) == 2
    assert fingerprint(path) == before
    with duckdb.connect(str(path), read_only=True) as con:
        keys = con.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'points' "
            "AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()[0][0]
        rows = con.execute("SELECT series_id, timestamp FROM points").fetchall()
    assert keys == 0
    assert rows == sorted(rows)


def test_a_schema_1_store_opened_read_only_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    points = make_v1_store(path, series=3, buckets=10)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with Store.open(path, read_only=True) as store:
        assert len(store.read()) == points
    assert version(path) == 1
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


# The child opens the store (which migrates it); the hook pauses inside the migration's
# transaction, after every point was copied, so the parent kills it at a known moment.
CHILD = """
import sys, time
from belimo_cloud.store import migrate
original = migrate.copy_points
def paused(con):
    original(con)
    print("copied", flush=True)
    time.sleep(60)
migrate.copy_points = paused
from belimo_cloud.store import Store
Store(sys.argv[1])
"""


def test_sigkill_inside_the_migration_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    points = make_v1_store(path, series=30, buckets=2000)
    before = fingerprint(path)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "copied"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert version(path) == 1  # nothing committed
    assert fingerprint(path) == before
    with Store(path) as store:  # the next open migrates for real
        assert len(store.read()) == points
    assert version(path) == 2
    assert fingerprint(path) == before


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.8, 1.5])
def test_sigkill_at_any_moment_of_opening_loses_nothing(tmp_path: Path, delay: float) -> None:
    path = tmp_path / "old.duckdb"
    points = make_v1_store(path, series=40, buckets=5000)
    before = fingerprint(path)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from belimo_cloud.store import Store; Store(sys.argv[1]).close()",
            str(path),
        ]
    )
    time.sleep(delay)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=60)
    assert fingerprint(path) == before  # whichever schema the kill left, all points are there
    with Store(path) as store:
        assert len(store.read()) == points
    assert version(path) == 2
    assert fingerprint(path) == before
