"""Each reason a store can't be used gets its own message, and the file is never changed."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from belimo_cloud.errors import StoreError
from belimo_cloud.store import Store
from belimo_cloud.store.schema import connect

from .helpers import STEP, T0, chunk

BUCKETS = 20_000


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def filled(path: Path) -> Path:
    with Store(path) as store:
        store.write_chunk(
            chunk("a", ["x", "y"], T0, BUCKETS),
            device_id="a",
            datapoint_ids=["x", "y"],
            resolution="15m",
            aggregation="last",
            start=T0,
            end=T0 + BUCKETS * STEP,
        )
    return path


def open_and_read(path: Path) -> None:
    """What a command does: open the store and read it whole."""
    with Store(path) as store:
        store.read()
        store.info()


def test_checksum_corrupt_store_is_damaged_not_in_use(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.duckdb")
    data = bytearray(path.read_bytes())
    # Past DuckDB's three header blocks: every data block carries a checksum.
    for offset in range(3 * 4096 + 64, len(data), 4096):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    before = digest(path)
    with pytest.raises(StoreError) as caught:
        open_and_read(path)
    message = str(caught.value)
    assert "corrupt or damaged" in message and "checksum" in message
    assert "in use" not in message and "\n" not in message
    assert digest(path) == before


def test_truncated_store_is_damaged(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.duckdb")
    path.write_bytes(path.read_bytes()[:10_000])
    before = digest(path)
    with pytest.raises(StoreError, match="corrupt or damaged") as caught:
        open_and_read(path)
    assert "in use" not in str(caught.value)
    assert digest(path) == before


def test_store_held_by_another_process_is_in_use(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.duckdb")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from belimo_cloud.store import Store; "
            "s = Store(sys.argv[1]); print('held', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        for read_only in (False, True):
            with pytest.raises(StoreError, match="in use by another process"):
                Store(path, read_only=read_only)
    finally:
        holder.kill()
        holder.wait()


def test_sqlite_file_is_not_a_store_and_fetches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    with sqlite3.connect(path) as lite:
        lite.execute("CREATE TABLE t (x INTEGER)")
    before = digest(path)
    for read_only in (False, True):
        with pytest.raises(StoreError, match=r"not a belimo store \(a SQLite database\)") as caught:
            Store(path, read_only=read_only)
        assert "extension" not in str(caught.value)
    assert digest(path) == before


def test_connections_never_install_or_load_extensions(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.duckdb")
    for read_only in (False, True):
        con = connect(path, read_only=read_only)
        try:
            settings = con.execute(
                "SELECT current_setting('autoinstall_known_extensions'), "
                "current_setting('autoload_known_extensions')"
            ).fetchall()
        finally:
            con.close()
        assert settings == [(False, False)]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"", "an empty file"),
        (b"PAR1" + bytes(100), "a Parquet file"),
        (b"hello" * 50, "corrupt beyond recognition"),
    ],
)
def test_foreign_files_are_named(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "s.duckdb"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a belimo store") as caught:
        Store(path)
    assert kind in str(caught.value)
    assert path.read_bytes() == content


def test_newer_schema_is_newer(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.duckdb")
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_version SET version = version + 1")
    con.close()
    before = digest(path)
    for read_only in (False, True):
        with pytest.raises(StoreError, match="newer") as caught:
            Store(path, read_only=read_only)
        assert "damaged" not in str(caught.value) and "in use" not in str(caught.value)
    assert digest(path) == before
