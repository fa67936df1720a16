"""Export stored samples as long rows: a CSV file, or Parquet partitioned by datapoint and year."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

import duckdb

from belimo_cloud.errors import DataError, StoreError

ExportFormat = Literal["parquet", "csv"]
EXPORT_COLUMNS = "device_id, datapoint_id, timestamp, value, resolution, aggregation"


def export_samples(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    format: str,
    where: str,
    params: list[Any],
    overwrite: bool,
) -> int:
    """Write the selected samples to ``path``; returns the number of rows written.

    Parquet goes to a directory ``path/datapoint_id=<id>/year=<yyyy>/*.parquet`` that
    ``read_parquet('path/**/*.parquet', hive_partitioning=true)`` (DuckDB, Spark, Dask) reads
    back with ``datapoint_id`` and ``year`` columns. CSV is one file with a header.
    """
    fmt = format.lower()
    if fmt not in ("parquet", "csv"):
        raise DataError(f"export format {format!r} is not supported; use parquet or csv")
    _clear_target(path, overwrite=overwrite, directory=fmt == "parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    row = con.execute(f"SELECT count(*) FROM samples WHERE {where}", params).fetchall()
    count = int(row[0][0]) if row else 0
    select = (
        f"SELECT {EXPORT_COLUMNS}, year(timestamp) AS year FROM samples WHERE {where} "
        "ORDER BY datapoint_id, device_id, resolution, aggregation, timestamp"
    )
    target = str(path).replace("'", "''")
    try:
        if fmt == "parquet":
            if count == 0:
                path.mkdir(parents=True, exist_ok=True)
                return 0
            con.execute(
                f"COPY ({select}) TO '{target}' "
                "(FORMAT PARQUET, PARTITION_BY (datapoint_id, year), OVERWRITE_OR_IGNORE true)",
                params,
            )
        else:
            con.execute(
                f"COPY (SELECT device_id, datapoint_id, "
                f"strftime(timestamp, '%Y-%m-%dT%H:%M:%SZ') AS timestamp, value, resolution, "
                f"aggregation FROM ({select})) TO '{target}' "
                "(FORMAT CSV, HEADER true)",
                params,
            )
    except duckdb.Error as exc:
        raise StoreError(f"export to {path} failed ({str(exc).splitlines()[0]})") from None
    return count


def _clear_target(path: Path, *, overwrite: bool, directory: bool) -> None:
    """Make room for the export; only ever deletes a file or a previous Parquet export."""
    if not path.exists():
        return
    if not directory and path.is_dir():
        raise StoreError(f"{path} is a directory; give a file name for the CSV export")
    if path.is_dir() and not any(path.iterdir()):
        return
    if not overwrite:
        raise StoreError(f"{path} already exists; choose another output or overwrite it")
    if not path.is_dir() or path.is_symlink():
        path.unlink()
        return
    if not all(p.is_dir() and p.name.startswith("datapoint_id=") for p in path.iterdir()):
        raise StoreError(f"{path} is not a previous Parquet export; refusing to replace it")
    shutil.rmtree(path)
