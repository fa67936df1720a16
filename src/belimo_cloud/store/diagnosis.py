"""Why a store file cannot be opened or read: in use, damaged, newer, foreign, not permitted.

Each diagnosis is decided by evidence specific to it (the file's first bytes, DuckDB's own
lock message), never by a loose word match: a checksum error mentions a "block", which once
passed for a "lock".
"""

from __future__ import annotations

from pathlib import Path

from belimo_cloud.errors import StoreError

# A DuckDB file carries its magic after an 8-byte header checksum.
_DUCKDB_MAGIC = b"DUCK"
_MAGIC_AT = slice(8, 12)
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip file"),
)
# DuckDB's messages when another process holds the file; nothing else counts as "in use".
_LOCK_MESSAGES = ("could not set lock on file", "conflicting lock is held")
_DAMAGE_MESSAGES = (
    "corrupt database file",
    "does not match stored checksum",
    "could not read enough bytes from file",
    "not a valid duckdb database file",
)
_VERSION_MESSAGES = ("version number", "storage version")


def foreign_file(path: Path) -> str | None:
    """What the file at ``path`` is when it is evidently not a DuckDB database, else None.

    Checked before DuckDB sees the file, so a SQLite file never sends DuckDB looking for its
    sqlite extension.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return None  # unreadable: DuckDB will say why, with the path
    if not head:
        return "an empty file"
    if head[_MAGIC_AT] == _DUCKDB_MAGIC:
        return None
    for magic, kind in _FOREIGN_MAGIC:
        if head.startswith(magic):
            return kind
    # Unrecognised bytes: a foreign file, or a store damaged beyond recognition.
    return "not a DuckDB file: foreign, or corrupt beyond recognition"


def not_a_store(path: Path, kind: str) -> StoreError:
    """The error for a file that is not a belimo store; the file is left as it is."""
    return StoreError(f"{path} is not a belimo store ({kind}); choose another --store")


def open_error(path: Path, exc: BaseException) -> StoreError:
    """One-line StoreError for a failure to open the store file at ``path``."""
    text = str(exc).lower()
    if any(message in text for message in _LOCK_MESSAGES):
        return StoreError(
            f"store {path} is in use by another process; wait for it or use another store"
        )
    if "different configuration than existing connections" in text:
        return StoreError(
            f"store {path} is already open in this process (read-only and read-write "
            "cannot be mixed); close the other Store first"
        )
    if "permission denied" in text:
        return StoreError(f"store {path} cannot be opened: permission denied")
    return read_error(path, exc)


def read_error(path: Path, exc: BaseException) -> StoreError:
    """One-line StoreError for a store that opened but fails while being read."""
    text = str(exc).lower()
    if any(message in text for message in _DAMAGE_MESSAGES):
        return damaged(path, exc)
    if any(message in text for message in _VERSION_MESSAGES):
        return StoreError(
            f"store {path} was written by another DuckDB version ({first_line(exc)}); "
            "use a belimo-cloud with a matching duckdb"
        )
    return StoreError(f"store {path} cannot be read ({first_line(exc)})")


def write_error(path: Path, exc: BaseException) -> StoreError:
    """One-line StoreError for a write that failed (and was rolled back)."""
    text = str(exc).lower()
    if any(message in text for message in _DAMAGE_MESSAGES):
        return damaged(path, exc)
    if "permission denied" in text or "read-only file system" in text:
        return StoreError(f"store {path} cannot be written ({first_line(exc)})")
    return StoreError(f"writing to store {path} failed ({first_line(exc)})")


def damaged(path: Path, exc: BaseException) -> StoreError:
    """The error for a store whose file is corrupt: DuckDB's own words say where."""
    return StoreError(
        f"store {path} is corrupt or damaged ({first_line(exc)}); restore a backup or sync "
        "into a new store"
    )


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (DuckDB appends hints and URLs below it)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
