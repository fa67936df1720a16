"""Compaction: copy the store into a fresh file in (series, time) order, then swap it in.

DuckDB never shrinks a file: blocks freed by replaced windows are reused, but the file keeps
its size, and windows written in sync order (every device's month, then the next month)
interleave series within a row group. Copying into a new file, points sorted by series and
time, gives the smallest file DuckDB can make. The old file is untouched until the new one is
complete, closed and synced; a single rename then swaps them, so a crash at any moment leaves
one whole store or the other.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from belimo_cloud.store.schema import connect

_TABLES = ("devices", "datapoints", "series", "sync_state")


def compact_file(path: Path, memory_limit: str) -> int:
    """Rewrite the closed store at ``path``; returns the number of points kept."""
    staging = path.with_name(f".{path.name}.compact-{secrets.token_hex(4)}")
    try:
        con = connect(staging, memory_limit=memory_limit)
        try:
            source = str(path).replace("'", "''")
            con.execute(f"ATTACH '{source}' AS old (READ_ONLY)")
            con.execute("BEGIN TRANSACTION")
            for table in _TABLES:
                con.execute(f"INSERT INTO main.{table} SELECT * FROM old.main.{table}")
            con.execute(
                "INSERT INTO main.points SELECT series_id, timestamp, value FROM old.main.points "
                "ORDER BY series_id, timestamp"
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
