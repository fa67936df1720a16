"""Store: the local DuckDB file of fleet history; the only code that touches stored data."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import duckdb
import pandas as pd

from belimo_cloud.errors import StoreError
from belimo_cloud.store import export as _export
from belimo_cloud.store import reader, writer
from belimo_cloud.store.info import StoreInfo, store_info
from belimo_cloud.store.intervals import Interval
from belimo_cloud.store.schema import connect, connect_memory, default_store_path


class Store:
    """One store file: ``Store(path)`` (default in the user data dir), then read, export, info.

    An existing file is opened at once, so a store locked by another process, written by a
    newer schema or damaged raises StoreError here, before anything is written. A file that
    does not exist yet is created by the first write; until then reads see an empty store.
    The connection holds DuckDB's file lock until ``close()`` (or the end of a ``with`` block).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._memory: duckdb.DuckDBPyConnection | None = None
        self._closed = False
        if self.path.exists():
            if self.path.is_dir():
                raise StoreError(f"store {self.path} is a directory; give a file path")
            self._con = connect(self.path)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

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
        with self._lock:
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

    def devices(self) -> pd.DataFrame:
        """The devices frame of the last sync (contract columns plus ``fetched_at``)."""
        with self._lock:
            return reader.read_devices(self._reading())

    def catalogue(self) -> pd.DataFrame:
        """The datapoint catalogue of every profile seen while syncing.

        Columns: dataprofile, datapoint_id, name, description, unit, access, basetype.
        """
        with self._lock:
            return reader.read_catalogue(self._reading())

    def info(self) -> StoreInfo:
        """Series, ranges, coverage gaps, row counts and file size."""
        with self._lock:
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
        ``csv``: one file with a header. Returns the number of rows written. An existing
        target is replaced only with ``overwrite=True``.
        """
        where, params = reader.sample_filter(
            device_ids, datapoint_ids, start, end, resolution, aggregation
        )
        with self._lock:
            return _export.export_samples(
                self._reading(),
                Path(path).expanduser(),
                format=format,
                where=where,
                params=params,
                overwrite=overwrite,
            )

    def coverage(self, resolution: str, aggregation: str) -> dict[tuple[str, str], list[Interval]]:
        """Covered [start, end) intervals by (device_id, datapoint_id), for the sync planner."""
        with self._lock:
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
    def _write_errors(self) -> Iterator[None]:
        """Ctrl-C stays a KeyboardInterrupt; other DuckDB failures become one-line StoreErrors.

        DuckDB catches Ctrl-C inside a query and reports it in several ways ("Query
        interrupted", "transaction is aborted" on the next statement, a failed commit, a
        traceback text), or not at all. A SIGINT handler installed for the duration of the
        write records the signal, so any of these ends as a KeyboardInterrupt. The transaction
        is rolled back (or committed whole) either way.
        """
        fired = False
        previous: Any = None
        watch = threading.current_thread() is threading.main_thread()
        if watch:
            previous = signal.getsignal(signal.SIGINT)
            watch = callable(previous)

            def record(signum: int, frame: FrameType | None) -> None:
                nonlocal fired
                fired = True
                previous(signum, frame)

            signal.signal(signal.SIGINT, record)
        try:
            yield
        except KeyboardInterrupt:
            raise
        except (duckdb.Error, RuntimeError) as exc:
            if fired or _interrupted(exc):
                raise KeyboardInterrupt from None
            if not isinstance(exc, duckdb.Error):
                raise
            raise StoreError(f"writing to store {self.path} failed ({_first(exc)})") from None
        finally:
            if watch:
                signal.signal(signal.SIGINT, previous)
        if fired:
            # DuckDB swallowed the interrupt and the write completed: stop now all the same.
            raise KeyboardInterrupt

    # -- connections ---------------------------------------------------------------------------

    def _reading(self) -> duckdb.DuckDBPyConnection:
        self._check_open()
        if self._con is not None:
            return self._con
        if self.path.exists():
            self._con = connect(self.path)
            return self._con
        if self._memory is None:
            self._memory = connect_memory()
        return self._memory

    def _writing(self) -> duckdb.DuckDBPyConnection:
        self._check_open()
        if self._con is None:
            self._con = connect(self.path)
            if self._memory is not None:
                self._memory.close()
                self._memory = None
        return self._con

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.path} is closed; open it again with Store(path)")


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _interrupted(exc: BaseException) -> bool:
    text = str(exc).lower()
    return (
        isinstance(exc, duckdb.InterruptException)
        or "interrupted" in text
        or "transaction is aborted" in text
    )
