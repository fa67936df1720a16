"""Compaction: copy the store into a fresh file in (series, time) order, then swap it in.

DuckDB never shrinks a file: blocks freed by replaced windows are reused, but the file keeps
its size, and windows written in sync order (every device's month, then the next month)
interleave series within a row group. Copying into a new file, points sorted by series and
time, gives the smallest file DuckDB can make. The old file is untouched until the new one is
complete, closed and synced; a single rename then swaps them, so a crash at any moment leaves
one whole store or the other.

Points are copied a batch of whole series at a time, each sorted under a memory limit of
:data:`COMPACT_MEMORY_LIMIT` (or the store's, when lower): the memory of a batch, not of the
store. Sorting 70 M points at once under the store's 256 MB peaked at 460 MB RSS; in batches
under 64 MiB at 250 MB, in the same time and 1 % more bytes per point.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import duckdb

from belimo_cloud.store.schema import connect, size_bytes

_TABLES = ("devices", "datapoints", "series", "sync_state")
COMPACT_MEMORY_LIMIT = 64 * 2**20  # [bytes]
# Points sorted at once per byte of the memory limit (6 M under 64 MiB: measured to fit).
ROWS_PER_BYTE = 1 / 11


def _batches(con: duckdb.DuckDBPyConnection, most: int) -> list[tuple[int, int, int]]:
    """(first, last series id, points) of batches of whole series, ``most`` points or fewer.

    A series longer than that alone is a batch of its own.
    """
    counts = con.execute(
        "SELECT series_id, count(*) FROM old.main.points GROUP BY series_id ORDER BY series_id"
    ).fetchall()
    batches: list[tuple[int, int, int]] = []
    for series_id, n in counts:
        if batches and batches[-1][2] + n <= most:
            batches[-1] = (batches[-1][0], series_id, batches[-1][2] + n)
        else:
            batches.append((series_id, series_id, n))
    return batches


def compact_file(path: Path, memory_limit: str) -> int:
    """Rewrite the closed store at ``path``; returns the number of points kept."""
    staging = path.with_name(f".{path.name}.compact-{secrets.token_hex(4)}")
    small = memory_limit
    if size_bytes(memory_limit) > COMPACT_MEMORY_LIMIT:
        small = f"{COMPACT_MEMORY_LIMIT}B"
    try:
        con = connect(staging, memory_limit=small)
        try:
            source = str(path).replace("'", "''")
            con.execute(f"ATTACH '{source}' AS old (READ_ONLY)")
            con.execute("BEGIN TRANSACTION")
            for table in _TABLES:
                con.execute(f"INSERT INTO main.{table} SELECT * FROM old.main.{table}")
            most = int(size_bytes(small) * ROWS_PER_BYTE)
            for lo, hi, points in _batches(con, most):
                # A single series beyond a batch may need more: the store's own limit.
                limit = small if points <= most else memory_limit
                con.execute(f"SET memory_limit = '{limit}'")
                con.execute(
                    "INSERT INTO main.points SELECT series_id, timestamp, value "
                    "FROM old.main.points WHERE series_id BETWEEN ? AND ? "
                    "ORDER BY series_id, timestamp",
                    [lo, hi],
                )
            # New series must not reuse an id: the sequence continues after the largest.
            nxt = con.execute("SELECT coalesce(max(series_id), 0) + 1 FROM series").fetchall()
            con.execute("DROP SEQUENCE series_ids")
            con.execute(f"CREATE SEQUENCE series_ids START {int(nxt[0][0])}")
            rows = int(con.execute("SELECT count(*) FROM points").fetchall()[0][0])
            con.execute("COMMIT")
            con.execute("DETACH old")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        with staging.open("rb+") as handle:
            os.fsync(handle.fileno())
        staging.replace(path)
    finally:
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return rows
