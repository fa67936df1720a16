"""Bounded reads: the selected samples as Arrow, and in batches of whole series or devices.

A batch never splits a series (nor, with ``by="device"``, a device), so each one can be
analysed on its own; its size is bounded by ``max_rows`` (a single series larger than that
is one batch of its own). Rows leave DuckDB through Arrow, never row by row.
"""

from __future__ import annotations

from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


def plan_batches(
    con: duckdb.DuckDBPyConnection, where: str, params: list[Any], by: str, max_rows: int
) -> list[list[int]]:
    """Series ids grouped into batches of at most ``max_rows`` rows (whole series/devices)."""
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


def read_batch(
    con: duckdb.DuckDBPyConnection, ids: list[int], where: str, params: list[Any]
) -> pd.DataFrame:
    """The selected samples of these series, as a long frame like ``Store.read()``.

    The key columns are categorical (Arrow dictionaries): a batch of two million rows holds
    its device ids a few times, not two million times, and the analysis groups by their codes.
    """
    id_list = ", ".join(str(int(i)) for i in ids)
    # The plan lists the series in key order: sorting by that position (an integer joined
    # in) instead of by four strings keeps the sort small.
    relation = con.sql(
        f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM points JOIN series USING (series_id) "
        f"JOIN (SELECT unnest([{id_list}]) AS series_id, unnest(range({len(ids)})) AS _pos) "
        f"USING (series_id) WHERE series_id IN ({id_list}) AND {where} "
        "ORDER BY _pos, timestamp",
        params=params,
    )
    table = arrow_table(relation)
    for name in KEY_COLUMNS:
        # Dictionary-encoded: each key string is held once per batch, not once per row.
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table.column(name)))
    return to_frame(table)
