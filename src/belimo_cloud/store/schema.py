"""The store's tables, its schema version, and opening a DuckDB file safely.

Samples live in ``points`` under a compact integer ``series_id`` plus the timestamp; the
``samples`` view shows them with their full key (device_id, datapoint_id, resolution,
aggregation, timestamp). Schema 2 keeps no index on ``points``: in schema 1 the primary key on
(series_id, timestamp) was 80 % of the file (65.7 bytes per point); without it, rows written in
(series, time) order compress to about 5 bytes per point. Idempotence comes from the writer
replacing each fetched window in one transaction instead.

DuckDB's buffer pool is capped (``memory_limit``, default :data:`DEFAULT_MEMORY_LIMIT`, or the
``BELIMO_STORE_MEMORY_LIMIT`` environment variable); larger sorts spill to a ``.tmp`` directory
beside the store. Writes run under the smaller :data:`WRITE_MEMORY_LIMIT` (see
``writer.write_budget``): DuckDB keeps every block it writes cached up to the limit, so a sync
would otherwise grow by the store's size up to the cap.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import platformdirs

from belimo_cloud.config import STORE_MEMORY_LIMIT_ENV_VAR, store_memory_limit
from belimo_cloud.errors import StoreError
from belimo_cloud.store.diagnosis import foreign_file, not_a_store, open_error, read_error
from belimo_cloud.store.migrate import migrate

SCHEMA_VERSION = 2
DEFAULT_MEMORY_LIMIT = "256MB"
MEMORY_LIMIT_ENV = STORE_MEMORY_LIMIT_ENV_VAR
# Enough for a window's replace and a checkpoint; a write of a bigger frame gets more.
WRITE_MEMORY_LIMIT = 32 * 2**20  # [bytes]
# The connection's configured limit, as given: DuckDB shows its setting rounded.
LIMIT_VARIABLE = "belimo_memory_limit"

DDL = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    device_id VARCHAR PRIMARY KEY,
    display_name VARCHAR,
    serial_number VARCHAR,
    production_id VARCHAR,
    device_type VARCHAR,
    dataprofile VARCHAR,
    health_state VARCHAR,
    health_description VARCHAR,
    last_seen TIMESTAMPTZ,
    online_days BIGINT,
    project_name VARCHAR,
    address_city VARCHAR,
    address_country VARCHAR,
    fetched_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS datapoints (
    dataprofile VARCHAR NOT NULL,
    datapoint_id VARCHAR NOT NULL,
    name VARCHAR,
    description VARCHAR,
    unit VARCHAR,
    access VARCHAR,
    basetype VARCHAR,
    PRIMARY KEY (dataprofile, datapoint_id)
);
CREATE SEQUENCE IF NOT EXISTS series_ids START 1;
CREATE TABLE IF NOT EXISTS series (
    series_id INTEGER PRIMARY KEY,
    device_id VARCHAR NOT NULL,
    datapoint_id VARCHAR NOT NULL,
    resolution VARCHAR NOT NULL,
    aggregation VARCHAR NOT NULL,
    UNIQUE (device_id, datapoint_id, resolution, aggregation)
);
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL,
    timestamp TIMESTAMPTZ NOT NULL,
    value DOUBLE
);
CREATE TABLE IF NOT EXISTS sync_state (
    device_id VARCHAR NOT NULL,
    datapoint_id VARCHAR NOT NULL,
    resolution VARCHAR NOT NULL,
    aggregation VARCHAR NOT NULL,
    start TIMESTAMPTZ NOT NULL,
    "end" TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (device_id, datapoint_id, resolution, aggregation, start)
);
CREATE VIEW IF NOT EXISTS samples AS
    SELECT s.device_id, s.datapoint_id, s.resolution, s.aggregation, p.timestamp, p.value
    FROM points p JOIN series s USING (series_id);
"""


def default_store_path() -> Path:
    """``<user data dir>/belimo/store.duckdb`` (platformdirs)."""
    return Path(platformdirs.user_data_dir("belimo")) / "store.duckdb"


def memory_limit_setting(value: str | None = None) -> str:
    """The DuckDB memory limit to use: ``value``, else the environment, else the default.

    Accepts DuckDB's sizes (``512MB``, ``2GiB``, ``1.5GB``); StoreError for anything else, so
    a typo never reaches DuckDB as SQL.
    """
    chosen = (value or store_memory_limit() or DEFAULT_MEMORY_LIMIT).strip()
    if not _SIZE.fullmatch(chosen):
        raise StoreError(f"store memory limit {chosen!r} is not a size; write it like 256MB or 2GB")
    return chosen


_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def size_bytes(size: str) -> int:
    """A size as :func:`memory_limit_setting` accepts it (``256MB``, ``1.5GiB``), in bytes."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]+)", size.strip(), re.IGNORECASE)
    if match is None or match[2].lower() not in _UNITS:
        raise StoreError(f"store memory limit {size!r} is not a size; write it like 256MB or 2GB")
    return int(float(match[1]) * _UNITS[match[2].lower()])


def connect(
    path: Path, *, read_only: bool = False, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the store at ``path``; StoreError when in use, newer, damaged or not a store.

    Read-write creates the file (and the schema) when missing and migrates a store of an
    older schema in place (one transaction: a crash leaves the old schema, every point kept);
    read-only needs an existing file and writes nothing, so a store on a read-only file or
    directory can be read (an older schema is read as it is). The file's first bytes and
    version are checked before anything is written, so a refused file stays untouched.
    """
    limit = memory_limit_setting(memory_limit)
    existed = path.exists()
    if existed:
        kind = foreign_file(path)
        if kind is not None:
            raise not_a_store(path, kind)
    elif read_only:
        raise StoreError(f"store {path} does not exist")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"store {path} cannot be created ({exc.strerror or exc})") from None
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=dict(_CONFIG))
    except duckdb.Error as exc:
        raise open_error(path, exc) from None
    try:
        _configure(con, limit)
        version = stored_version(con, path) if existed else None
    except BaseException:
        con.close()
        raise
    if version == SCHEMA_VERSION or (read_only and version is not None):
        return con
    if version is not None:
        try:
            migrate(con, version)
        except duckdb.Error as exc:
            con.close()
            raise StoreError(
                f"store {path} could not be migrated to schema {SCHEMA_VERSION} "
                f"({str(exc).splitlines()[0]}); it is unchanged"
            ) from None
        except BaseException:
            con.close()
            raise
        return con
    if read_only:
        # An empty DuckDB file: nothing stored yet, and nothing may be created.
        con.close()
        return connect_memory()
    try:
        _create(con)
    except BaseException:
        con.close()
        raise
    return con


def connect_memory() -> duckdb.DuckDBPyConnection:
    """An empty in-memory store: reads of a store file that does not exist yet see no rows."""
    con = duckdb.connect(":memory:", config=dict(_CONFIG))
    _configure(con, memory_limit_setting())
    _create(con)
    return con


def check_version(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Refuse a file that is not a store of ours or was written by a newer schema.

    Returns True when the file already holds the current schema (nothing to create).
    """
    return stored_version(con, path) == SCHEMA_VERSION


def stored_version(con: duckdb.DuckDBPyConnection, path: Path) -> int | None:
    """The schema version of the store (None: an empty DuckDB file); StoreError when foreign.

    A file written by a newer schema is refused.
    """
    row: list[tuple[object, ...]] = []
    try:
        tables = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        if tables and "schema_version" in tables:
            row = con.execute("SELECT max(version) FROM schema_version").fetchall()
    except duckdb.Error as exc:
        raise read_error(path, exc) from None
    if not tables:
        return None
    if "schema_version" not in tables:
        raise not_a_store(path, "a DuckDB database of other tables")
    version = row[0][0] if row else None
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise StoreError(
            f"store {path} has schema version {version}, newer than this belimo-cloud "
            f"understands ({SCHEMA_VERSION}); upgrade belimo-cloud"
        )
    if not isinstance(version, int):
        return None  # created but never finished: _create() completes it
    return version


# Set when the connection is made, before DuckDB looks at the file: a foreign file must never
# make it fetch an extension from the network or load one.
_CONFIG: tuple[tuple[str, bool | str], ...] = (
    ("autoinstall_known_extensions", False),
    ("autoload_known_extensions", False),
)


def _configure(con: duckdb.DuckDBPyConnection, memory_limit: str) -> None:
    """UTC for TIMESTAMPTZ values, a capped buffer pool, and no progress bar of DuckDB's own."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET VARIABLE {LIMIT_VARIABLE} = '{memory_limit}'")


def _create(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(DDL)
        row = con.execute("SELECT count(*) FROM schema_version").fetchall()
        if not row or row[0][0] == 0:
            con.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
