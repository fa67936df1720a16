"""The reported command lines against a real store file: one line, exit 1, nothing lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from belimo_cloud.store import Store

from .helpers import STEP, T0, chunk


def belimo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "belimo_cloud.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    with Store(path) as store:
        store.write_chunk(
            chunk("a", ["x", "y"], T0, 96),
            device_id="a",
            datapoint_ids=["x", "y"],
            resolution="15m",
            aggregation="last",
            start=T0,
            end=T0 + 96 * STEP,
        )
    return path


def contents(path: Path) -> pd.DataFrame:
    with Store.open(path, read_only=True) as store:
        return store.read()


@pytest.mark.parametrize(
    "output", ["store.duckdb", "./store.duckdb", "store.duckdb.wal", ".", "link"]
)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_onto_the_store_is_refused(store_path: Path, output: str, fmt: str) -> None:
    (store_path.parent / "link").symlink_to(store_path)
    before = contents(store_path)
    args = ["export", "--store", str(store_path), "-o", output, "-f", fmt, "--overwrite"]
    done = belimo(*args, cwd=store_path.parent)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "is the store" in lines[0]
    assert "Traceback" not in done.stderr and "bug" not in done.stderr
    pd.testing.assert_frame_equal(contents(store_path), before)


def test_corrupt_store_is_reported_corrupt(store_path: Path) -> None:
    data = bytearray(store_path.read_bytes())
    for offset in range(3 * 4096 + 64, len(data), 4096):
        data[offset] ^= 0xFF
    store_path.write_bytes(bytes(data))
    done = belimo("store", "info", "--store", str(store_path), cwd=store_path.parent)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "corrupt" in lines[0] and "in use" not in lines[0]
    assert store_path.read_bytes() == bytes(data)


def test_sqlite_file_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as lite:
        lite.execute("CREATE TABLE t (x INTEGER)")
    done = belimo("store", "info", "--store", str(path), cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a belimo store" in lines[0]
    assert "extension" not in done.stderr.lower()
