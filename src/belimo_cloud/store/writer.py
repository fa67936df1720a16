"""Writes: device snapshots, the datapoint catalogue, and fetched chunks with their coverage.

A chunk's samples and the coverage it proves are one transaction, so a crash leaves either
both or neither: the next sync never trusts coverage whose samples are missing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime

import duckdb
import pandas as pd

from belimo_cloud.client.frames import CATALOGUE_COLUMNS, DEVICE_COLUMNS
from belimo_cloud.store.intervals import Interval, merge


class Transaction:
    """``with Transaction(con):`` commits on success, rolls back on any exception (Ctrl-C too)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self._con.execute("BEGIN TRANSACTION")
        return self._con

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._con.execute("COMMIT")
            return
        # The first error is the one to report; an interrupted connection may refuse the
        # rollback, and closing it discards the open transaction anyway.
        with contextlib.suppress(duckdb.Error):
            self._con.execute("ROLLBACK")


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[str]:
    """``frame`` visible to SQL as ``name`` for the block; enter it outside a Transaction.

    Unregistering inside a failed transaction fails in turn ("transaction is aborted") and
    would hide the error that matters, so the view outlives the transaction instead.
    """
    con.register(name, frame)
    try:
        yield name
    finally:
        with contextlib.suppress(duckdb.Error):
            con.unregister(name)


def upsert_devices(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, fetched_at: datetime
) -> int:
    """Replace the metadata snapshot of these devices; other devices keep theirs."""
    if frame.empty:
        return 0
    rows = pd.DataFrame({col: frame.get(col) for col in DEVICE_COLUMNS})
    rows["last_seen"] = pd.to_datetime(rows["last_seen"], utc=True)
    rows["online_days"] = pd.to_numeric(rows["online_days"], errors="coerce").astype("Int64")
    rows["fetched_at"] = pd.Timestamp(fetched_at)
    rows = rows.drop_duplicates("device_id", keep="last")
    columns = ", ".join([*DEVICE_COLUMNS, "fetched_at"])
    with registered(con, "_devices_in", rows), Transaction(con):
        con.execute(f"INSERT OR REPLACE INTO devices ({columns}) SELECT {columns} FROM _devices_in")
    return len(rows)


def upsert_catalogue(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Add or refresh datapoint definitions (one row per profile and datapoint id)."""
    if frame.empty:
        return 0
    rows = pd.DataFrame({col: frame.get(col) for col in CATALOGUE_COLUMNS})
    rows = rows.astype("string").drop_duplicates(["dataprofile", "datapoint_id"], keep="last")
    columns = ", ".join(CATALOGUE_COLUMNS)
    with registered(con, "_catalogue_in", rows), Transaction(con):
        con.execute(
            f"INSERT OR REPLACE INTO datapoints ({columns}) SELECT {columns} FROM _catalogue_in"
        )
    return len(rows)


def series_ids(
    con: duckdb.DuckDBPyConnection,
    device_id: str,
    datapoint_ids: Sequence[str],
    resolution: str,
    aggregation: str,
) -> dict[str, int]:
    """The series id of each datapoint, creating missing series (call inside a transaction)."""
    found = _lookup(con, device_id, datapoint_ids, resolution, aggregation)
    missing = [dp for dp in datapoint_ids if dp not in found]
    for dp in missing:
        con.execute(
            "INSERT INTO series VALUES (nextval('series_ids'), ?, ?, ?, ?)",
            [device_id, dp, resolution, aggregation],
        )
    if missing:
        found = _lookup(con, device_id, datapoint_ids, resolution, aggregation)
    return found


def write_chunk(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    *,
    device_id: str,
    datapoint_ids: Sequence[str],
    resolution: str,
    aggregation: str,
    start: datetime,
    end: datetime,
    settled_before: datetime | None = None,
) -> int:
    """Replace one fetched window and mark [start, end) covered for its datapoints, atomically.

    ``frame`` is long (datapoint_id, timestamp, value; other columns ignored). Returns the
    number of samples written. The window's stored samples of these datapoints are deleted
    and the fetched ones inserted in (series, time) order, in one transaction: writing a
    window twice stores it once, with no index to pay for. A sample outside [start, end)
    replaces the stored sample of its series and time. A bucket repeated in ``frame`` is
    stored once (the later row wins). Coverage stops at ``settled_before``: samples newer
    than that are stored but not trusted as final, so the next sync reads them again. The
    rows go to DuckDB as they are (no per-row Python work): series ids and casts are SQL.
    """
    dps = list(dict.fromkeys(datapoint_ids))
    settled = (start, end if settled_before is None else min(end, settled_before))
    with (
        registered(con, "_chunk_in", frame[["datapoint_id", "timestamp", "value"]]),
        Transaction(con),
    ):
        ids = series_ids(con, device_id, dps, resolution, aggregation)
        written = _replace(con, frame, ids, (start, end)) if ids else 0
        if settled[1] > settled[0]:
            _add_coverage(
                con,
                device_id=device_id,
                datapoint_ids=dps,
                resolution=resolution,
                aggregation=aggregation,
                interval=settled,
            )
    return written


# The chunk with its series ids, one row per (series, time): the later of repeated rows wins.
_STAGED = """
SELECT series_id, timestamp, value FROM (
    SELECT s.series_id, CAST(c.timestamp AS TIMESTAMPTZ) AS timestamp,
           TRY_CAST(c.value AS DOUBLE) AS value, row_number() OVER () AS arrival
    FROM _chunk_in c JOIN series s
      ON s.datapoint_id = c.datapoint_id AND s.series_id IN ({ids})
    WHERE c.timestamp IS NOT NULL
)
QUALIFY row_number() OVER (PARTITION BY series_id, timestamp ORDER BY arrival DESC) = 1
"""


def _replace(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, ids: dict[str, int], window: Interval
) -> int:
    """Delete the window's samples of these series, insert the chunk's in order; the count."""
    # Integers from our own table: safe to inline, and literal lists let DuckDB prune row
    # groups by their min/max instead of probing a list per row.
    id_list = ", ".join(str(int(i)) for i in sorted(ids.values()))
    con.execute(
        f"DELETE FROM points WHERE series_id IN ({id_list}) AND timestamp >= ? AND timestamp < ?",
        list(window),
    )
    if not len(frame):
        return 0
    staged = _STAGED.format(ids=id_list)
    lo, hi = con.execute(
        "SELECT min(CAST(timestamp AS TIMESTAMPTZ)), max(CAST(timestamp AS TIMESTAMPTZ)) "
        "FROM _chunk_in"
    ).fetchall()[0]
    if lo is not None and (lo < window[0] or hi >= window[1]):
        # Rare: samples beyond the window replace their own stored rows, nothing else.
        con.execute(
            f"DELETE FROM points WHERE series_id IN ({id_list}) AND timestamp BETWEEN ? AND ? "
            f"AND (series_id, timestamp) IN (SELECT (series_id, timestamp) FROM ({staged}))",
            [lo, hi],
        )
    row = con.execute(
        f"INSERT INTO points SELECT * FROM ({staged}) ORDER BY series_id, timestamp"
    ).fetchall()
    return int(row[0][0]) if row else 0


def coverage(
    con: duckdb.DuckDBPyConnection, resolution: str, aggregation: str
) -> dict[tuple[str, str], list[Interval]]:
    """Covered intervals per (device, datapoint) at this resolution and aggregation."""
    result: dict[tuple[str, str], list[Interval]] = {}
    for device_id, dp, start, end in con.execute(
        'SELECT device_id, datapoint_id, start, "end" FROM sync_state '
        "WHERE resolution = ? AND aggregation = ? ORDER BY device_id, datapoint_id, start",
        [resolution, aggregation],
    ).fetchall():
        result.setdefault((device_id, dp), []).append((start, end))
    return result


def _add_coverage(
    con: duckdb.DuckDBPyConnection,
    *,
    device_id: str,
    datapoint_ids: Sequence[str],
    resolution: str,
    aggregation: str,
    interval: Interval,
) -> None:
    """Merge ``interval`` into the coverage of each datapoint (a few statements per chunk)."""
    key = [device_id, resolution, aggregation, list(datapoint_ids)]
    where = (
        "device_id = ? AND resolution = ? AND aggregation = ? AND list_contains(?, datapoint_id)"
    )
    current: dict[str, list[Interval]] = {dp: [] for dp in datapoint_ids}
    for dp, lo, hi in con.execute(
        f'SELECT datapoint_id, start, "end" FROM sync_state WHERE {where}', key
    ).fetchall():
        current[dp].append((lo, hi))
    changed = {
        dp: merged
        for dp, parts in current.items()
        if (merged := merge([*parts, interval])) != sorted(parts)
    }
    if not changed:
        return
    con.execute(
        "DELETE FROM sync_state WHERE device_id = ? AND resolution = ? AND aggregation = ? "
        "AND list_contains(?, datapoint_id)",
        [device_id, resolution, aggregation, list(changed)],
    )
    rows = [(dp, lo, hi) for dp, merged in changed.items() for lo, hi in merged]
    values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(rows))
    params: list[object] = []
    for dp, lo, hi in rows:
        params += [device_id, dp, resolution, aggregation, lo, hi]
    con.execute(f"INSERT INTO sync_state VALUES {values}", params)


def _lookup(
    con: duckdb.DuckDBPyConnection,
    device_id: str,
    datapoint_ids: Sequence[str],
    resolution: str,
    aggregation: str,
) -> dict[str, int]:
    rows = con.execute(
        "SELECT datapoint_id, series_id FROM series WHERE device_id = ? AND resolution = ? "
        "AND aggregation = ? AND list_contains(?, datapoint_id)",
        [device_id, resolution, aggregation, list(datapoint_ids)],
    ).fetchall()
    return {dp: int(sid) for dp, sid in rows}
