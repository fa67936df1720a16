"""Store: the local DuckDB file of fleet history; the only code that touches stored data."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import duckdb
import pandas as pd
import pyarrow as pa

from belimo_cloud.errors import StoreError
from belimo_cloud.store import batches, reader, writer
from belimo_cloud.store import export as _export
from belimo_cloud.store.batches import BatchBy
from belimo_cloud.store.compact import compact_file
from belimo_cloud.store.diagnosis import read_error, write_error
from belimo_cloud.store.info import StoreInfo, store_info
from belimo_cloud.store.interrupts import SigintWatch
from belimo_cloud.store.intervals import Interval
from belimo_cloud.store.schema import (
    connect,
    connect_memory,
    default_store_path,
    memory_limit_setting,
)


class Store:
    """One store file: ``Store(path)`` (default in the user data dir), then read, export, info.

    An existing file is opened at once, so a store in use by another process, written by a
    newer schema, damaged or not a store at all raises StoreError here, before anything is
    written. A file that does not exist yet is created by the first write; until then reads
    see an empty store. The connection holds DuckDB's file lock until ``close()`` (or the end
    of a ``with`` block).

    ``read_only=True`` (or ``Store.open(path, read_only=True)``) never writes: writes raise
    StoreError and other readers may hold the file at the same time. A store whose file or
    directory this user may not write is opened read-only by itself.

    ``memory_limit`` caps DuckDB's buffer pool (a size like ``"256MB"``; default the
    ``BELIMO_STORE_MEMORY_LIMIT`` environment variable, else 256MB); bigger work spills to
    disk. A store of an older schema is migrated in place when opened for writing.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.memory_limit = memory_limit_setting(memory_limit)
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._memory: duckdb.DuckDBPyConnection | None = None
        self._closed = False
        self._watch: SigintWatch | None = None
        self._read_only_reason = "it was opened read-only" if read_only else ""
        if self.path.exists():
            if self.path.is_dir():
                raise StoreError(f"store {self.path} is a directory; give a file path")
            if not read_only and not _writable(self.path):
                self._read_only_reason = "this user may not write its file or directory"
            self._con = self._connect()

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
    ) -> Store:
        """``Store(path, read_only=...)``: read commands open the store read-only."""
        return cls(path, read_only=read_only, memory_limit=memory_limit)

    @property
    def read_only(self) -> bool:
        """True when this Store never writes (asked for, or the file is not writable)."""
        return bool(self._read_only_reason)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}{', read_only=True' if self.read_only else ''})"

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file (and its lock); further use raises StoreError."""
        with self._lock:
            if self._watch is not None:
                self._watch.restore()
                self._watch = None
            for con in (self._con, self._memory):
                if con is not None:
                    con.close()
            self._con = self._memory = None
            self._closed = True

    # -- reading -------------------------------------------------------------------------------

    def read(  # noqa: PLR0917
        self,
        device_ids: Sequence[str] | str | None = None,
        datapoint_ids: Sequence[str] | str | None = None,
        start: datetime | pd.Timestamp | str | None = None,
        end: datetime | pd.Timestamp | str | None = None,
        resolution: str | None = None,
        aggregation: str | None = None,
        pivot: bool = False,
    ) -> pd.DataFrame:
        """Stored samples in [start, end), long or (``pivot=True``) wide.

        Long: device_id, datapoint_id, timestamp (UTC bucket start), value, resolution,
        aggregation. Wide: a timestamp index and one column per datapoint when one device is
        selected, else one per (device_id, datapoint_id); it needs a single resolution and
        aggregation.
        """
        with self._lock, self._read_errors():
            return reader.read_samples(
                self._reading(),
                device_ids=device_ids,
                datapoint_ids=datapoint_ids,
                start=start,
                end=end,
                resolution=resolution,
                aggregation=aggregation,
                pivot=pivot,
            )

    def read_arrow(  # noqa: PLR0917
        self,
        device_ids: Sequence[str] | str | None = None,
        datapoint_ids: Sequence[str] | str | None = None,
        start: datetime | pd.Timestamp | str | None = None,
        end: datetime | pd.Timestamp | str | None = None,
        resolution: str | None = None,
        aggregation: str | None = None,
        batch_rows: int = 1_000_000,
    ) -> pa.RecordBatchReader:
        """The long samples of ``read()`` as a stream of Arrow record batches (bounded memory).

        Ordered by device, datapoint, resolution, aggregation and time; a batch may end inside
        a series (use ``read_batches`` for whole series). Consume it before the next call on
        this Store.
        """
        where, params = reader.sample_filter(
            device_ids, datapoint_ids, start, end, resolution, aggregation
        )
        with self._lock, self._read_errors():
            return batches.sample_reader(self._reading(), where, params, batch_rows)

    def read_batches(  # noqa: PLR0917
        self,
        device_ids: Sequence[str] | str | None = None,
        datapoint_ids: Sequence[str] | str | None = None,
        start: datetime | pd.Timestamp | str | None = None,
        end: datetime | pd.Timestamp | str | None = None,
        resolution: str | None = None,
        aggregation: str | None = None,
        by: BatchBy = "series",
        max_rows: int = batches.DEFAULT_BATCH_ROWS,
        groups: Sequence[Sequence[str]] | None = None,
    ) -> Iterator[pd.DataFrame]:
        """``read()``'s long frame in batches of whole series (or whole devices: ``by="device"``).

        Each batch holds at most ``max_rows`` rows unless one series (or device) alone is
        larger; no series is ever split across batches, so each batch can be analysed on its
        own and memory stays bounded whatever the store holds. Columns as in ``read()``, but
        the key columns (device_id, datapoint_id, resolution, aggregation) are categorical.

        ``groups`` (lists of device ids) sets the batches instead: one per group, in that
        order, empty when the group has no samples (so that two reads planned on the same
        groups go in step), whatever its size.
        """
        where, params = reader.sample_filter(
            device_ids, datapoint_ids, start, end, resolution, aggregation
        )
        with self._lock, self._read_errors():
            plan = batches.plan_batches(self._reading(), where, params, by, max_rows, groups)
        for ids in plan:
            with self._lock, self._read_errors():
                frame = batches.read_batch(self._reading(), ids, where, params)
            yield frame

    def series_summary(  # noqa: PLR0917
        self,
        device_ids: Sequence[str] | str | None = None,
        datapoint_ids: Sequence[str] | str | None = None,
        start: datetime | pd.Timestamp | str | None = None,
        end: datetime | pd.Timestamp | str | None = None,
        resolution: str | None = None,
        aggregation: str | None = None,
    ) -> pd.DataFrame:
        """One row per series with samples in the selection, without reading the samples.

        Columns: device_id, datapoint_id, resolution, aggregation, rows, first and last
        (timestamps of the first and last sample in [start, end), UTC), in the order reads
        return them. What a batched analysis decides for the whole selection before its
        first batch (the finest resolution stored, which series exist) comes from here.
        """
        where, params = reader.sample_filter(
            device_ids, datapoint_ids, start, end, resolution, aggregation
        )
        with self._lock, self._read_errors():
            return batches.series_summary(self._reading(), where, params)

    def compact(self) -> int:
        """Rewrite the store into a fresh file in (series, time) order; the points kept.

        A sync writes a window at a time (every device's month, then the next month), and
        DuckDB never gives freed space back to the file system; compacting after a large sync
        restores the order DuckDB compresses best and the smallest file. The old file stays
        whole until the new one is complete (a crash leaves one or the other); the store is
        closed and reopened around it, so no other process may hold it meanwhile.
        """
        with self._lock, self._write_errors():
            self._writing()
            if self._con is not None:
                self._con.close()
                self._con = None
            try:
                return compact_file(self.path, self.memory_limit)
            finally:
                self._con = self._connect()

    def devices(self) -> pd.DataFrame:
        """The devices frame of the last sync (contract columns plus ``fetched_at``)."""
        with self._lock, self._read_errors():
            return reader.read_devices(self._reading())

    def catalogue(self) -> pd.DataFrame:
        """The datapoint catalogue of every profile seen while syncing.

        Columns: dataprofile, datapoint_id, name, description, unit, access, basetype.
        """
        with self._lock, self._read_errors():
            return reader.read_catalogue(self._reading())

    def info(self) -> StoreInfo:
        """Series, ranges, coverage gaps, row counts and file size."""
        with self._lock, self._read_errors():
            return store_info(self._reading(), self.path, exists=self._con is not None)

    def export(
        self,
        path: str | Path,
        format: str = "parquet",
        *,
        device_ids: Sequence[str] | str | None = None,
        datapoint_ids: Sequence[str] | str | None = None,
        start: datetime | pd.Timestamp | str | None = None,
        end: datetime | pd.Timestamp | str | None = None,
        resolution: str | None = None,
        aggregation: str | None = None,
        overwrite: bool = False,
    ) -> int:
        """Write long rows (device_id, datapoint_id, timestamp, value, resolution, aggregation).

        ``parquet``: a directory Hive-partitioned by ``datapoint_id`` and ``year`` (UTC);
        ``csv``: one file with a header. Returns the number of rows written. The export is
        written beside the target and moved into place when complete; an existing target is
        replaced only with ``overwrite=True``, and only then. A target that is the store (its
        file, write-ahead log, or a directory holding them, also through a symlink) is
        refused with DataError.
        """
        where, params = reader.sample_filter(
            device_ids, datapoint_ids, start, end, resolution, aggregation
        )
        with self._lock, self._read_errors():
            return _export.export_samples(
                self._reading(),
                Path(path).expanduser(),
                format=format,
                where=where,
                params=params,
                overwrite=overwrite,
                store=self.path,
            )

    def coverage(self, resolution: str, aggregation: str) -> dict[tuple[str, str], list[Interval]]:
        """Covered [start, end) intervals by (device_id, datapoint_id), for the sync planner."""
        with self._lock, self._read_errors():
            return writer.coverage(self._reading(), resolution, aggregation)

    # -- writing (used by the syncer) ----------------------------------------------------------

    def save_devices(self, frame: pd.DataFrame, fetched_at: datetime | None = None) -> int:
        """Replace the metadata snapshot of the devices in ``frame`` (a devices frame)."""
        with self._lock, self._write_errors():
            return writer.upsert_devices(self._writing(), frame, fetched_at or datetime.now(UTC))

    def save_catalogue(self, frame: pd.DataFrame) -> int:
        """Add or refresh datapoint definitions (a catalogue frame)."""
        with self._lock, self._write_errors():
            return writer.upsert_catalogue(self._writing(), frame)

    def write_chunk(
        self,
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
        """Upsert one fetched window and record [start, end) as covered, in one transaction.

        Coverage stops at ``settled_before`` (newer samples are kept but read again later).
        """
        with self._lock, self._write_errors():
            return writer.write_chunk(
                self._writing(),
                frame,
                device_id=device_id,
                datapoint_ids=datapoint_ids,
                resolution=resolution,
                aggregation=aggregation,
                start=start,
                end=end,
                settled_before=settled_before,
            )

    @contextlib.contextmanager
    def _read_errors(self) -> Iterator[None]:
        """DuckDB failures while reading become one-line StoreErrors saying what is wrong."""
        try:
            yield
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as exc:
            raise read_error(self.path, exc) from exc

    @contextlib.contextmanager
    def _write_errors(self) -> Iterator[None]:
        """Ctrl-C stays a KeyboardInterrupt; DuckDB failures become one-line StoreErrors.

        The writer rolls the transaction back on any exception, so nothing is half-written.
        Only a SIGINT that really arrived (or DuckDB's own interrupt error) is reported as an
        interrupt; an ordinary error surfaces as itself, whatever its text says.
        """
        watch = SigintWatch()
        self._watch = watch
        try:
            with watch:
                yield
        except KeyboardInterrupt:
            raise
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except Exception as exc:
            if watch.fired:
                raise KeyboardInterrupt from None
            if isinstance(exc, duckdb.Error):
                raise write_error(self.path, exc) from exc
            raise
        finally:
            self._watch = None
        if watch.fired:
            # DuckDB swallowed the interrupt and the write completed: stop now all the same.
            raise KeyboardInterrupt

    # -- connections ---------------------------------------------------------------------------

    def _reading(self) -> duckdb.DuckDBPyConnection:
        self._check_open()
        if self._con is not None:
            return self._con
        if self.path.exists():
            self._con = self._connect()
            return self._con
        if self._memory is None:
            self._memory = connect_memory()
        return self._memory

    def _writing(self) -> duckdb.DuckDBPyConnection:
        self._check_open()
        if self.read_only:
            raise StoreError(f"store {self.path} cannot be written: {self._read_only_reason}")
        if self._con is None:
            self._con = self._connect()
            if self._memory is not None:
                self._memory.close()
                self._memory = None
        return self._con

    def _connect(self) -> duckdb.DuckDBPyConnection:
        return connect(self.path, read_only=self.read_only, memory_limit=self.memory_limit)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.path} is closed; open it again with Store(path)")


def _writable(path: Path) -> bool:
    """Whether DuckDB may write the file and create its write-ahead log beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
