"""Export stored samples as long rows: CSV, zstd Parquet or a Delta table, series kept whole.

Parquet and Delta are partitioned by ``datapoint_id`` and ``device_id``: every series (one
device's datapoint at one resolution and aggregation) lies whole in one partition, ordered by
time, so counter differencing per partition or per file never breaks at a boundary (the
earlier layout by UTC year cut every counter on 1 January). Exports stream a batch of whole
devices at a time, so memory stays bounded whatever the store holds.

An export is written beside its target under a hidden name and moved into place only once it
is complete, so a failure (a full disk, Ctrl-C) leaves any previous export as it was and no
partial one behind. Nothing is deleted before the new export exists, and a target that is the
store itself, or would swallow it, is refused before anything is touched.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
from pathlib import Path
from typing import Any, Literal

import duckdb

from belimo_cloud.errors import DataError, StoreError
from belimo_cloud.store.batches import plan_batches
from belimo_cloud.store.reader import arrow_table

ExportFormat = Literal["parquet", "csv", "delta"]
FORMATS = ("parquet", "csv", "delta")
PARTITIONS = ("datapoint_id", "device_id")
# Rows per COPY: whole devices up to this many, sorted in memory well inside DuckDB's cap.
EXPORT_BATCH_ROWS = 2_000_000
EXPORT_COLUMNS = "device_id, datapoint_id, timestamp, value, resolution, aggregation"
# Files DuckDB keeps beside a database: its write-ahead log and its spill directory.
_STORE_SIDECARS = (".wal", ".tmp")


def export_samples(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    format: str,
    where: str,
    params: list[Any],
    overwrite: bool,
    store: Path | None = None,
) -> int:
    """Write the selected samples to ``path``; returns the number of rows written.

    Parquet goes to a directory ``path/datapoint_id=<id>/device_id=<id>/*.parquet`` (zstd)
    that ``read_parquet('path/**/*.parquet', hive_partitioning=true)`` (DuckDB, Spark, Dask)
    reads back with ``datapoint_id`` and ``device_id`` columns. Delta (needs the ``deltalake``
    package) is a Delta table in ``path`` with the same partitions, the format Databricks
    reads natively. CSV is one file with a header. ``store`` is the store's own file, which
    the export must never replace.
    """
    fmt = format.lower()
    if fmt not in FORMATS:
        raise DataError(f"export format {format!r} is not supported; use parquet, csv or delta")
    if store is not None:
        refuse_store_target(path, store)
    _check_target(path, overwrite=overwrite, directory=fmt != "csv")
    staging = _beside(path, "partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        count = _copy(con, staging, fmt, where, params)
        _move_into_place(staging, path, overwrite=overwrite)
    except duckdb.Error as exc:
        raise StoreError(f"export to {path} failed ({str(exc).splitlines()[0]})") from None
    except OSError as exc:
        raise StoreError(f"export to {path} failed ({exc.strerror or exc})") from None
    finally:
        _discard(staging)
    return count


def refuse_store_target(target: Path, store: Path) -> None:
    """DataError when writing ``target`` could replace or swallow the store at ``store``.

    Paths are compared after resolving symlinks, and existing files by identity (a hard
    link), so no spelling of the store's path gets past.
    """
    store_file = store.expanduser().resolve()
    protected = [store_file, *(store_file.with_name(store_file.name + s) for s in _STORE_SIDECARS)]
    real = target.expanduser().resolve()
    for guarded in protected:
        if real == guarded or guarded.is_relative_to(real) or real.is_relative_to(guarded):
            raise DataError(_store_message(target, store))
    if target.exists():
        for guarded in protected:
            with contextlib.suppress(OSError):
                if guarded.exists() and target.samefile(guarded):
                    raise DataError(_store_message(target, store))


def _store_message(target: Path, store: Path) -> str:
    return (
        f"export target {target} is the store {store} or holds it; "
        "choose an output outside the store"
    )


def _check_target(path: Path, *, overwrite: bool, directory: bool) -> None:
    """Refuse a target that exists (unless ``overwrite``) or is not ours to replace."""
    if not path.exists() and not path.is_symlink():
        return
    if not directory and path.is_dir():
        raise StoreError(f"{path} is a directory; give a file name for the CSV export")
    if directory and path.is_file():
        raise StoreError(f"{path} is a file; give a directory for the Parquet export")
    if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
        return
    if not overwrite:
        raise StoreError(f"{path} already exists; choose another output or overwrite it")
    if directory and path.is_dir() and not path.is_symlink() and not _is_parquet_export(path):
        raise StoreError(f"{path} is not a previous Parquet export; refusing to replace it")


def _is_parquet_export(path: Path) -> bool:
    return all(
        p.is_dir() and (p.name.startswith("datapoint_id=") or p.name == "_delta_log")
        for p in path.iterdir()
    )


def _copy(
    con: duckdb.DuckDBPyConnection, staging: Path, fmt: str, where: str, params: list[Any]
) -> int:
    if fmt == "csv":
        select = (
            f"SELECT {EXPORT_COLUMNS} FROM samples WHERE {where} "
            "ORDER BY device_id, datapoint_id, resolution, aggregation, timestamp"
        )
        target = _literal(staging)
        sql = (
            f"COPY (SELECT device_id, datapoint_id, "
            f"strftime(timestamp, '%Y-%m-%dT%H:%M:%SZ') AS timestamp, value, resolution, "
            f"aggregation FROM ({select})) TO '{target}' (FORMAT CSV, HEADER true)"
        )
        return _count(con.execute(sql, params).fetchall())
    staging.mkdir()
    plan = plan_batches(con, where, params, "device", EXPORT_BATCH_ROWS)
    if fmt == "delta":
        return _write_delta(con, staging, plan, where, params)
    total = 0
    for number, ids in enumerate(plan):
        # One COPY per batch of whole devices: each series lands whole in one file, and
        # only one batch is ever sorted in memory.
        sql = (
            f"COPY ({_batch_select(ids, where)}) TO '{_literal(staging)}' "
            "(FORMAT PARQUET, COMPRESSION ZSTD, PARTITION_BY (datapoint_id, device_id), "
            f"OVERWRITE_OR_IGNORE true, FILENAME_PATTERN 'part{number:05d}_{{i}}')"
        )
        total += _count(con.execute(sql, params).fetchall())
    return total


def _batch_select(ids: list[int], where: str) -> str:
    id_list = ", ".join(str(int(i)) for i in ids)
    return (
        f"SELECT {EXPORT_COLUMNS} FROM points JOIN series USING (series_id) "
        f"WHERE series_id IN ({id_list}) AND {where} "
        "ORDER BY datapoint_id, device_id, resolution, aggregation, timestamp"
    )


def _write_delta(
    con: duckdb.DuckDBPyConnection,
    staging: Path,
    plan: list[list[int]],
    where: str,
    params: list[Any],
) -> int:
    try:
        import deltalake
    except ImportError:
        raise DataError(
            "the delta export needs the deltalake package; pip install deltalake"
        ) from None
    properties = deltalake.WriterProperties(compression="ZSTD")
    total = 0
    for ids in plan:
        table = arrow_table(con.sql(_batch_select(ids, where), params=params))
        total += table.num_rows
        deltalake.write_deltalake(
            staging,
            table,
            partition_by=list(PARTITIONS),
            mode="append",
            writer_properties=properties,
        )
    return total


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def _count(rows: list[tuple[Any, ...]]) -> int:
    return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0


def _move_into_place(staging: Path, path: Path, *, overwrite: bool) -> None:
    """Rename the finished export to ``path``; the old one goes only once the new one is in."""
    if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
        path.rmdir()  # an empty directory holds nothing to keep
    if not path.exists() and not path.is_symlink():
        staging.replace(path)
        return
    if not overwrite:
        raise StoreError(f"{path} already exists; choose another output or overwrite it")
    if staging.is_file() and not path.is_dir():
        staging.replace(path)  # atomic: readers see the old file or the new one
        return
    old = _beside(path, "old")
    path.replace(old)
    try:
        staging.replace(path)
    except BaseException:
        old.replace(path)
        raise
    _discard(old)


def _beside(path: Path, role: str) -> Path:
    """A fresh hidden name in the target's directory (same file system, so renames are atomic)."""
    return path.with_name(f".{path.name}.{role}-{secrets.token_hex(4)}")


def _discard(path: Path) -> None:
    """Remove a staging or replaced export; a symlink goes, never what it points to."""
    with contextlib.suppress(OSError):
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
