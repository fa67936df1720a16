"""Bounded reads: the selected samples as Arrow, and in batches of whole series or devices.

A batch never splits a series (nor, with ``by="device"``, a device), so each one can be
analysed on its own; its size is bounded by ``max_rows`` (a single series larger than that
is one batch of its own). Rows leave DuckDB through Arrow, never row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from belimo_cloud.errors import DataError
from belimo_cloud.store.reader import SAMPLE_COLUMNS, arrow_table, to_frame

BatchBy = Literal["series", "device"]
KEY_COLUMNS = ("device_id", "datapoint_id", "resolution", "aggregation")
DEFAULT_BATCH_ROWS = 2_000_000
_ORDER = "device_id, datapoint_id, resolution, aggregation, timestamp"


def sample_reader(
    con: duckdb.DuckDBPyConnection, where: str, params: list[Any], batch_rows: int
) -> pa.RecordBatchReader:
    """A stream of Arrow record batches of the selected samples, ordered by series and time."""
    relation = con.sql(
        f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM points JOIN series USING (series_id) "
        f"WHERE {where} ORDER BY {_ORDER}",
        params=params,
    )
    stream = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    reader: pa.RecordBatchReader = stream(batch_rows)
    return reader


def series_summary(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> pd.DataFrame:
    """One row per series with samples in the selection: its key, rows, first and last time.

    In key order (device, datapoint, resolution, aggregation), the order reads return rows in;
    one aggregate query, no samples leave DuckDB.
    """
    frame: pd.DataFrame = con.execute(
        f"""
        SELECT {", ".join(KEY_COLUMNS)}, count(*) AS rows,
               min(timestamp) AS first, max(timestamp) AS last
        FROM points JOIN series USING (series_id)
        WHERE {where}
        GROUP BY {", ".join(KEY_COLUMNS)}
        ORDER BY {", ".join(KEY_COLUMNS)}
        """,
        params,
    ).df()
    frame["rows"] = frame["rows"].astype("int64")
    for name in ("first", "last"):
        frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[ns, UTC]")
    return frame


def plan_batches(  # noqa: PLR0917
    con: duckdb.DuckDBPyConnection,
    where: str,
    params: list[Any],
    by: str,
    max_rows: int,
    groups: Sequence[Sequence[str]] | None = None,
) -> list[list[int]]:
    """Series ids grouped into batches of at most ``max_rows`` rows (whole series/devices).

    With ``groups`` (lists of device ids) the batches are those groups instead, in that order,
    whatever their size; a group with no samples is an empty batch.
    """
    if by not in ("series", "device"):
        raise DataError(f"batches go by 'series' or 'device', not {by!r}")
    if max_rows < 1:
        raise DataError("max_rows must be at least 1")
    counts = con.execute(
        f"""
        SELECT series_id, device_id, count(*) AS n
        FROM points JOIN series USING (series_id)
        WHERE {where}
        GROUP BY series_id, device_id, datapoint_id, resolution, aggregation
        ORDER BY device_id, datapoint_id, resolution, aggregation
        """,
        params,
    ).fetchall()
    if groups is not None:
        return _grouped(counts, groups)
    # A unit is what must stay together: one series, or every series of one device.
    units: list[tuple[list[int], int]] = []
    last_device: object = None
    for series_id, device_id, n in counts:
        if by == "device" and units and device_id == last_device:
            ids, rows = units[-1]
            ids.append(int(series_id))
            units[-1] = (ids, rows + int(n))
        else:
            units.append(([int(series_id)], int(n)))
        last_device = device_id
    batches: list[list[int]] = []
    total = 0
    for ids, n in units:
        if batches and total + n <= max_rows:
            batches[-1].extend(ids)
            total += n
        else:
            batches.append(list(ids))
            total = n
    return batches


def _grouped(counts: list[Any], groups: Sequence[Sequence[str]]) -> list[list[int]]:
    """The planned series by the caller's device groups (series in key order within each)."""
    where_is: dict[str, int] = {}
    for i, group in enumerate(groups):
        for device_id in group:
            if device_id in where_is:
                raise DataError(f"device {device_id!r} is in more than one batch group")
            where_is[device_id] = i
    batches: list[list[int]] = [[] for _ in groups]
    for series_id, device_id, _n in counts:
        slot = where_is.get(device_id)
        if slot is not None:
            batches[slot].append(int(series_id))
    return batches


def read_batch(
    con: duckdb.DuckDBPyConnection, ids: list[int], where: str, params: list[Any]
) -> pd.DataFrame:
    """The selected samples of these series, as a long frame like ``Store.read()``.

    The key columns are categorical (Arrow dictionaries): a batch of two million rows holds
    its device ids a few times, not two million times, and the analysis groups by their codes.
    """
    if not ids:
        return to_frame(_keyed(_NO_ROWS, []))
    id_list = ", ".join(str(int(i)) for i in ids)
    keys = {
        int(row[0]): tuple(row[1:])
        for row in con.execute(
            f"SELECT series_id, {', '.join(KEY_COLUMNS)} FROM series WHERE series_id IN ({id_list})"
        ).fetchall()
    }
    # Only numbers leave DuckDB and are sorted: the series' position in the plan (the plan
    # lists them in key order) and the samples. Sorting rows that carry four strings each
    # took five times as long; the keys are put back below as Arrow dictionaries.
    relation = con.sql(
        "SELECT _pos, timestamp, value FROM points JOIN series USING (series_id) "
        f"JOIN (SELECT unnest([{id_list}]) AS series_id, unnest(range({len(ids)})) AS _pos) "
        f"USING (series_id) WHERE series_id IN ({id_list}) AND {where} "
        "ORDER BY _pos, timestamp",
        params=params,
    )
    return to_frame(_keyed(arrow_table(relation), [keys[int(i)] for i in ids]))


_NO_ROWS = pa.table(
    {
        "_pos": pa.array([], pa.int64()),
        "timestamp": pa.array([], pa.timestamp("us", tz="UTC")),
        "value": pa.array([], pa.float64()),
    }
)


def _keyed(table: pa.Table, keys: list[tuple[Any, ...]]) -> pa.Table:
    """The samples with their key columns, dictionary-encoded from the series' keys.

    ``table`` has ``_pos`` (the index into ``keys``), ``timestamp`` and ``value``; each key
    column's dictionary lists its values in the order of their first row, as
    ``dictionary_encode`` of the rows would.
    """
    pos = np.asarray(table.column("_pos").to_numpy(), dtype=np.int64)
    present = np.flatnonzero(np.bincount(pos, minlength=len(keys)) > 0) if len(pos) else pos
    columns: dict[str, pa.Array] = {}
    for j, name in enumerate(KEY_COLUMNS):
        codes = np.zeros(len(keys), dtype=np.int32)
        dictionary: dict[Any, int] = {}
        for p in present.tolist():
            codes[p] = dictionary.setdefault(keys[p][j], len(dictionary))
        columns[name] = pa.DictionaryArray.from_arrays(
            pa.array(codes[pos], type=pa.int32()), pa.array(list(dictionary), type=pa.string())
        )
    parts = {**columns, "timestamp": table.column("timestamp"), "value": table.column("value")}
    return pa.table({name: parts[name] for name in SAMPLE_COLUMNS})
