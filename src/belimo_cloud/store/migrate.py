"""Schema migrations of an existing store, in place and crash-safe.

Every migration is one DuckDB transaction: the new table is filled beside the old one, then
the old one is dropped and the new one renamed, and the schema version is set last. A crash (or
SIGKILL) at any point before the commit leaves the file as it was, with every point; after the
commit, the write-ahead log completes it when the store is next opened.
"""

from __future__ import annotations

import contextlib

import duckdb

# Schema 1 -> 2: ``points`` loses its primary key (80 % of the file) and is rewritten in
# (series_id, timestamp) order, which is what lets DuckDB compress it to a few bytes a point.
_POINTS_V2 = """
CREATE TABLE points_v2 (
    series_id INTEGER NOT NULL,
    timestamp TIMESTAMPTZ NOT NULL,
    value DOUBLE
)
"""
SAMPLES_VIEW = """
CREATE VIEW samples AS
    SELECT s.device_id, s.datapoint_id, s.resolution, s.aggregation, p.timestamp, p.value
    FROM points p JOIN series s USING (series_id)
"""


def migrate(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Bring a store of schema ``version`` to the current schema (2)."""
    if version >= 2:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        _swap_points(con)
        con.execute("DELETE FROM schema_version")
        con.execute("INSERT INTO schema_version VALUES (2)")
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    release_old_blocks(con)


def release_old_blocks(con: duckdb.DuckDBPyConnection) -> None:
    """Hand the old table's blocks back now, not at some later checkpoint.

    Until this checkpoint, the committed migration lives in the write-ahead log; a store
    killed before it is migrated when DuckDB replays the log on the next open.
    """
    with contextlib.suppress(duckdb.Error):
        con.execute("CHECKPOINT")


def _swap_points(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE IF EXISTS points_v2")
    con.execute(_POINTS_V2)
    copy_points(con)
    con.execute("DROP VIEW IF EXISTS samples")
    con.execute("DROP TABLE points")
    con.execute("ALTER TABLE points_v2 RENAME TO points")
    con.execute(SAMPLES_VIEW)


def copy_points(con: duckdb.DuckDBPyConnection) -> None:
    """Every point of the old table into the new one, in (series, time) order."""
    con.execute(
        "INSERT INTO points_v2 SELECT series_id, timestamp, value FROM points "
        "ORDER BY series_id, timestamp"
    )
