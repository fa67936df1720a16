"""Reads: samples as long or wide DataFrames, the devices snapshot and the catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from belimo_cloud.client.frames import CATALOGUE_COLUMNS, DEVICE_COLUMNS
from belimo_cloud.errors import DataError

SAMPLE_COLUMNS = ["device_id", "datapoint_id", "timestamp", "value", "resolution", "aggregation"]
TimeLike = datetime | pd.Timestamp | str | None


def sample_filter(  # noqa: PLR0917
    device_ids: Sequence[str] | str | None = None,
    datapoint_ids: Sequence[str] | str | None = None,
    start: TimeLike = None,
    end: TimeLike = None,
    resolution: str | None = None,
    aggregation: str | None = None,
) -> tuple[str, list[Any]]:
    """A WHERE clause (``TRUE`` when unfiltered) and its parameters over the samples view."""
    clauses: list[str] = []
    params: list[Any] = []
    if device_ids is not None:
        clauses.append("list_contains(?, device_id)")
        params.append([device_ids] if isinstance(device_ids, str) else list(device_ids))
    if datapoint_ids is not None:
        clauses.append("list_contains(?, datapoint_id)")
        params.append([datapoint_ids] if isinstance(datapoint_ids, str) else list(datapoint_ids))
    if start is not None:
        clauses.append("timestamp >= ?")
        params.append(to_utc(start, "start"))
    if end is not None:
        clauses.append("timestamp < ?")
        params.append(to_utc(end, "end"))
    if resolution is not None:
        clauses.append("resolution = ?")
        params.append(resolution)
    if aggregation is not None:
        clauses.append("aggregation = ?")
        params.append(aggregation)
    return (" AND ".join(clauses) or "TRUE"), params


def read_samples(
    con: duckdb.DuckDBPyConnection,
    *,
    device_ids: Sequence[str] | str | None = None,
    datapoint_ids: Sequence[str] | str | None = None,
    start: TimeLike = None,
    end: TimeLike = None,
    resolution: str | None = None,
    aggregation: str | None = None,
    pivot: bool = False,
) -> pd.DataFrame:
    """Stored samples, long (one row per sample), sorted by device, datapoint, time.

    ``pivot=True`` returns a wide view instead: a UTC timestamp index and one column per
    datapoint when a single device is selected, otherwise (device_id, datapoint_id) columns.
    """
    where, params = sample_filter(device_ids, datapoint_ids, start, end, resolution, aggregation)
    # Sorting by a per-series rank (not by the strings) and converting through Arrow keeps a
    # read of ten million rows at seconds instead of tens of seconds.
    relation = con.sql(
        f"""
        SELECT {", ".join(SAMPLE_COLUMNS)}
        FROM points
        JOIN (SELECT *, row_number() OVER (
                  ORDER BY device_id, datapoint_id, resolution, aggregation) AS rank
              FROM series) USING (series_id)
        WHERE {where}
        ORDER BY rank, timestamp
        """,
        params=params,
    )
    frame = to_frame(arrow_table(relation))
    if not pivot:
        return frame
    return _wide(frame)


def read_devices(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The last metadata snapshot of every synced device (devices-frame columns + fetched_at)."""
    columns = ", ".join([*DEVICE_COLUMNS, "fetched_at"])
    frame = con.execute(f"SELECT {columns} FROM devices ORDER BY display_name, device_id").df()
    for col in ("last_seen", "fetched_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def read_catalogue(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every datapoint definition seen while syncing (catalogue-frame columns)."""
    columns = ", ".join(CATALOGUE_COLUMNS)
    return con.execute(f"SELECT {columns} FROM datapoints ORDER BY dataprofile, datapoint_id").df()


def to_utc(value: datetime | pd.Timestamp | str, what: str) -> pd.Timestamp:
    """A tz-aware UTC Timestamp; naive input is taken as UTC; DataError when unparseable."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{what} {value!r} is not a date or time ({exc})") from None
    if pd.isna(stamp):
        raise DataError(f"{what} {value!r} is not a date or time")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Long samples from Arrow, with nanosecond UTC timestamps like the client's frames."""
    frame: pd.DataFrame = table.to_pandas()
    if frame.empty:
        frame = frame.astype({"value": "float64"})
    # Nanoseconds, like the client's frames, so stored and fetched data compare equal.
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    return frame


def arrow_table(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    """The relation as an Arrow table (DuckDB 1.x and 2.x spell this differently)."""
    convert = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return convert()


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    if frame[["resolution", "aggregation"]].drop_duplicates().shape[0] > 1:
        raise DataError(
            "pivot=True needs one resolution and aggregation; pass resolution= and aggregation="
        )
    single = frame["device_id"].nunique() <= 1
    columns: str | list[str] = "datapoint_id" if single else ["device_id", "datapoint_id"]
    wide = frame.pivot(index="timestamp", columns=columns, values="value")
    if single:
        wide.columns.name = None
    return wide.sort_index()
