"""Writes: device snapshots, the datapoint catalogue, and fetched chunks with their coverage.

A chunk's samples and the coverage it proves are one transaction, so a crash leaves either
both or neither: the next sync never trusts coverage whose samples are missing.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pyarrow as pa

from belimo_cloud.client.frames import CATALOGUE_COLUMNS, DEVICE_COLUMNS
from belimo_cloud.store.intervals import Interval, merge
from belimo_cloud.store.schema import LIMIT_VARIABLE, WRITE_MEMORY_LIMIT, size_bytes
from belimo_cloud.store.staging import staged_rows


class Transaction:
    """``with Transaction(con):`` commits on success, rolls back on any exception (Ctrl-C too).

    ``before`` runs just ahead of BEGIN and ``after`` just ahead of COMMIT (or after the
    rollback), in the same call: each call hands the GIL to other threads and waits to get
    it back, so a write that runs while a sync's workers fetch keeps its calls few.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, *, before: str = "", after: str = ""
    ) -> None:
        self._con = con
        self._before = before
        self._after = after

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        if self._before:
            try:
                self._con.execute(f"{self._before}; BEGIN TRANSACTION")
                return self._con
            except duckdb.Error:
                self._undo_before()  # ``before`` was refused: a plain transaction instead
        self._con.execute("BEGIN TRANSACTION")
        return self._con

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._con.execute(f"{self._after}; COMMIT" if self._after else "COMMIT")
            return
        # The first error is the one to report; an interrupted connection may refuse the
        # rollback, and closing it discards the open transaction anyway.
        with contextlib.suppress(duckdb.Error):
            self._con.execute("ROLLBACK")
        self._undo_before()

    def _undo_before(self) -> None:
        if self._after:
            with contextlib.suppress(duckdb.Error):
                self._con.execute(self._after)
        self._after = ""


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
    """The series id of each datapoint, creating missing series (call inside a transaction).

    Ids this connection saw committed are remembered (:func:`remember_series`): series are
    never deleted or renumbered, so a sync looks each one up once, not once per window.
    """
    known = _SERIES.setdefault(con, {})
    found = {
        dp: known[key]
        for dp in datapoint_ids
        if (key := (device_id, dp, resolution, aggregation)) in known
    }
    if len(found) == len(datapoint_ids):
        return found
    found = _lookup(con, device_id, datapoint_ids, resolution, aggregation)
    missing = [dp for dp in datapoint_ids if dp not in found]
    if missing:
        created = con.execute(
            "INSERT INTO series SELECT nextval('series_ids'), ?, dp, ?, ? FROM unnest(?) t(dp) "
            "RETURNING datapoint_id, series_id",
            [device_id, resolution, aggregation, missing],
        ).fetchall()
        found |= {dp: int(sid) for dp, sid in created}
    return found


def remember_series(
    con: duckdb.DuckDBPyConnection,
    device_id: str,
    ids: dict[str, int],
    resolution: str,
    aggregation: str,
) -> None:
    """Keep committed series ids for :func:`series_ids` (never ids of a rolled-back write)."""
    known = _SERIES.setdefault(con, {})
    for dp, sid in ids.items():
        known[(device_id, dp, resolution, aggregation)] = sid


# Per connection: (device_id, datapoint_id, resolution, aggregation) -> series_id.
_SERIES: weakref.WeakKeyDictionary[
    duckdb.DuckDBPyConnection, dict[tuple[str, str, str, str], int]
] = weakref.WeakKeyDictionary()


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

    ``frame`` is long (datapoint_id, timestamp, value; other columns ignored; datapoint_id may
    be categorical). Returns the number of samples written. The window's stored samples of
    these datapoints are deleted and the fetched ones inserted in (series, time) order, in one
    transaction: writing a window twice stores it once, with no index to pay for. A sample
    outside [start, end) replaces the stored sample of its series and time. A bucket repeated
    in ``frame`` is stored once (the later row wins). Coverage stops at ``settled_before``:
    samples newer than that are stored but not trusted as final, so the next sync reads them
    again. No per-row Python work: numeric frames are keyed and ordered in numpy (a fetched
    window arrives ordered, so that is a check), anything else by SQL casts.
    """
    dps = list(dict.fromkeys(datapoint_ids))
    settled = (start, end if settled_before is None else min(end, settled_before))
    lower, restore = budget_statements(con, frame)
    with Views(con) as views, Transaction(con, before=lower, after=restore):
        ids = series_ids(con, device_id, dps, resolution, aggregation)
        written = _replace(con, views, frame, ids, (start, end)) if ids else 0
        if settled[1] > settled[0]:
            _add_coverage(
                con,
                device_id=device_id,
                datapoint_ids=dps,
                resolution=resolution,
                aggregation=aggregation,
                interval=settled,
            )
    remember_series(con, device_id, ids, resolution, aggregation)
    return written


def budget_statements(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> tuple[str, str]:
    """The SET statements that lower DuckDB's memory limit for one write and restore it.

    DuckDB keeps the blocks it writes cached up to its limit, which a sync of a large store
    would reach: lowering the limit to :data:`WRITE_MEMORY_LIMIT` evicts them, so a sync's
    memory stays the same whatever the store's size, while reads between writes keep the
    configured limit. A frame bigger than a window gets room for a few copies of itself. No
    statements (two empty strings) when the configured limit is lower already, or for a
    connection not made by ``schema.connect``.
    """
    configured = _configured_limit(con)
    budget = max(WRITE_MEMORY_LIMIT, 4 * int(frame.memory_usage(index=False).sum()))
    if not isinstance(configured, str) or budget >= size_bytes(configured):
        return "", ""
    return f"SET memory_limit = '{budget}B'", f"SET memory_limit = '{configured}'"


# Asked once per connection: a write keeps its calls into DuckDB few (see Transaction).
_LIMITS: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, object] = weakref.WeakKeyDictionary()


def _configured_limit(con: duckdb.DuckDBPyConnection) -> object:
    if con not in _LIMITS:
        row = con.execute(f"SELECT getvariable('{LIMIT_VARIABLE}')").fetchall()
        _LIMITS[con] = row[0][0] if row else None
    return _LIMITS[con]


class Views:
    """Frames registered inside a transaction, unregistered once it has ended.

    Unregistering inside a failed transaction fails in turn ("transaction is aborted"), so the
    views outlive the transaction: enter this before the Transaction.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._names: list[str] = []

    def __enter__(self) -> Views:
        return self

    def register(self, name: str, frame: pd.DataFrame | pa.Table) -> str:
        self._con.register(name, frame)
        self._names.append(name)
        return name

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        for name in self._names:
            with contextlib.suppress(duckdb.Error):
                self._con.unregister(name)
        self._names.clear()


# The chunk with its series ids, one row per (series, time): the later of repeated rows wins.
# For frames the numpy path cannot take (values as text, timestamps as text, sub-microseconds).
_STAGED = """
SELECT series_id, timestamp, value FROM (
    SELECT s.series_id, CAST(c.timestamp AS TIMESTAMPTZ) AS timestamp,
           TRY_CAST(c.value AS DOUBLE) AS value, row_number() OVER () AS arrival
    FROM _chunk_in c JOIN series s
      ON s.datapoint_id = c.datapoint_id AND s.series_id IN ({ids})
    WHERE c.timestamp IS NOT NULL
)
QUALIFY row_number() OVER (PARTITION BY series_id, timestamp ORDER BY arrival DESC) = 1
ORDER BY series_id, timestamp
"""


def _replace(
    con: duckdb.DuckDBPyConnection,
    views: Views,
    frame: pd.DataFrame,
    ids: dict[str, int],
    window: Interval,
) -> int:
    """Delete the window's samples of these series, insert the chunk's in order; the count."""
    # Integers from our own table and times we format: safe to inline, and literal lists let
    # DuckDB prune row groups by their min/max instead of probing a list per row.
    id_list = ", ".join(str(int(i)) for i in sorted(ids.values()))
    delete = (
        f"DELETE FROM points WHERE series_id IN ({id_list}) "
        f"AND timestamp >= {_literal(window[0])} AND timestamp < {_literal(window[1])}"
    )
    if not len(frame):
        con.execute(delete)
        return 0
    rows = staged_rows(frame, ids)
    if rows is not None:
        staged = views.register("_staged_in", rows.table)
        first, last = rows.first, rows.last
    else:
        views.register("_chunk_in", frame[["datapoint_id", "timestamp", "value"]])
        staged = f"({_STAGED.format(ids=id_list)})"
        first, last = con.execute(
            "SELECT min(CAST(timestamp AS TIMESTAMPTZ)), max(CAST(timestamp AS TIMESTAMPTZ)) "
            "FROM _chunk_in"
        ).fetchall()[0]
    insert = f"INSERT INTO points SELECT series_id, timestamp, value FROM {staged}"
    if first is not None and last is not None and (first < window[0] or last >= window[1]):
        # Rare: samples beyond the window replace their own stored rows, nothing else.
        con.execute(delete)
        con.execute(
            f"DELETE FROM points WHERE series_id IN ({id_list}) AND timestamp BETWEEN ? AND ? "
            f"AND (series_id, timestamp) IN (SELECT (series_id, timestamp) FROM {staged})",
            [first, last],
        )
        row = con.execute(insert).fetchall()
    else:
        row = con.execute(f"{delete}; {insert}").fetchall()
    return int(row[0][0]) if row else 0


def _literal(moment: datetime) -> str:
    """A TIMESTAMPTZ literal of a datetime (naive ones are UTC), to the microsecond."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return f"TIMESTAMPTZ '{aware.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}+00'"


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
    """Merge ``interval`` into the coverage of each datapoint (two statements per chunk).

    Stored intervals are disjoint and apart, so only those touching ``interval`` change: they
    are taken out and put back as one with it.
    """
    touching = con.execute(
        "DELETE FROM sync_state WHERE device_id = ? AND resolution = ? AND aggregation = ? "
        'AND list_contains(?, datapoint_id) AND start <= ? AND "end" >= ? '
        'RETURNING datapoint_id, start, "end"',
        [device_id, resolution, aggregation, list(datapoint_ids), interval[1], interval[0]],
    ).fetchall()
    parts: dict[str, list[Interval]] = {dp: [interval] for dp in datapoint_ids}
    for dp, lo, hi in touching:
        parts[dp].append((lo, hi))
    rows = [(dp, *merge(intervals)[0]) for dp, intervals in parts.items()]
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
