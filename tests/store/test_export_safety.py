"""Exports lose nothing: the store is never a target; a failed overwrite keeps the old export."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from belimo_cloud.errors import DataError, StoreError
from belimo_cloud.store import Store

from .helpers import STEP, T0, chunk

DPS = ["evcloud.210", "evcloud.140"]
BUCKETS = 4_000  # per device and datapoint: Parquet files of tens of kB


def fill(path: Path) -> None:
    with Store(path) as store:
        for device in ("a", "b"):
            frame = chunk(device, DPS, T0, BUCKETS)
            frame["value"] = frame["value"] * 1.000001 + ord(device)  # distinct per device
            store.write_chunk(
                frame,
                device_id=device,
                datapoint_ids=DPS,
                resolution="15m",
                aggregation="last",
                start=T0,
                end=T0 + BUCKETS * STEP,
            )


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "store.duckdb"
    fill(path)
    return path


def snapshot(path: Path) -> pd.DataFrame:
    with Store.open(path, read_only=True) as store:
        return store.read()


def leftovers(directory: Path) -> list[str]:
    """Hidden staging or replaced exports the export should have cleaned up."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def read_export(path: Path) -> pd.DataFrame:
    if path.is_dir():
        query = f"SELECT * FROM read_parquet('{path}/**/*.parquet', hive_partitioning = true)"
    else:
        query = f"SELECT * FROM read_csv('{path}')"
    with duckdb.connect() as con:
        frame = con.execute(query + " ORDER BY device_id, datapoint_id, timestamp").df()
    return frame[["device_id", "datapoint_id", "value"]].reset_index(drop=True)


def _same(path: Path) -> Path:
    return path


def _dotted(path: Path) -> Path:
    return path.parent / ".." / path.parent.name / "." / path.name


def _symlink(path: Path) -> Path:
    link = path.parent.parent / "link-to-store"
    link.symlink_to(path)
    return link


def _hardlink(path: Path) -> Path:
    link = path.parent.parent / "hardlink.duckdb"
    os.link(path, link)
    return link


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _directory(path: Path) -> Path:
    return path.parent


def _linked_directory(path: Path) -> Path:
    link = path.parent.parent / "link-to-data"
    link.symlink_to(path.parent, target_is_directory=True)
    return link


TARGETS: dict[str, Callable[[Path], Path]] = {
    "store": _same,
    "dotted": _dotted,
    "symlink": _symlink,
    "hardlink": _hardlink,
    "wal": _wal,
    "directory": _directory,
    "linked-directory": _linked_directory,
}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("spelling", sorted(TARGETS))
def test_a_target_that_is_or_holds_the_store_is_refused(
    store_path: Path, fmt: str, spelling: str
) -> None:
    before = snapshot(store_path)
    assert len(before) == 2 * len(DPS) * BUCKETS
    target = TARGETS[spelling](store_path)
    size = store_path.stat().st_size
    with Store(store_path) as store, pytest.raises(DataError, match="is the store"):
        store.export(target, format=fmt, overwrite=True)
    assert store_path.stat().st_size == size
    pd.testing.assert_frame_equal(snapshot(store_path), before)
    assert leftovers(store_path.parent) == []


def test_refused_export_of_the_store_on_the_command_line_path(store_path: Path) -> None:
    """The exact reported command: export -o <the store> --overwrite, in another process."""
    before = snapshot(store_path)
    code = (
        "import sys; from belimo_cloud.store import Store; "
        "Store.open(sys.argv[1], read_only=True).export(sys.argv[1], 'csv', overwrite=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(store_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "DataError" in done.stderr and "is the store" in done.stderr
    pd.testing.assert_frame_equal(snapshot(store_path), before)


# A child whose writes stop at a few kB, as on a full disk (EFBIG instead of ENOSPC).
FULL_DISK = """
import resource, signal, sys
from belimo_cloud.store import Store
from belimo_cloud.errors import StoreError

store = Store.open(sys.argv[1], read_only=True)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    store.export(sys.argv[2], sys.argv[3], overwrite=True)
except StoreError as exc:
    print(exc)
    sys.exit(3)
"""


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_overwrite_that_fails_midway_keeps_the_old_export(
    store_path: Path, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / "out" / ("samples.csv" if fmt == "csv" else "samples")
    with Store(store_path) as store:
        old_rows = store.export(target, format=fmt, device_ids="a", datapoint_ids="evcloud.210")
    old = read_export(target)
    assert len(old) == old_rows == BUCKETS
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(store_path), str(target), fmt],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "export to" in done.stdout and "failed" in done.stdout
    pd.testing.assert_frame_equal(read_export(target), old)
    assert leftovers(target.parent) == []
    # The same overwrite with room to write replaces the old export whole.
    with Store(store_path) as store:
        assert store.export(target, format=fmt, overwrite=True) == 2 * len(DPS) * BUCKETS
    assert len(read_export(target)) == 2 * len(DPS) * BUCKETS
    assert leftovers(target.parent) == []


def test_failure_while_moving_into_place_restores_the_old_export(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last rename failing (no server can make it fail) puts the old export back."""
    target = tmp_path / "export"
    with Store(store_path) as store:
        store.export(target, device_ids="b")
    old = read_export(target)
    real_replace = Path.replace

    def replace(self: Path, other: Path) -> Path:
        if ".partial-" in self.name:
            raise OSError(28, "No space left on device")
        return real_replace(self, other)

    monkeypatch.setattr(Path, "replace", replace)
    with Store(store_path) as store, pytest.raises(StoreError, match="No space left"):
        store.export(target, overwrite=True)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(read_export(target), old)
    assert leftovers(tmp_path) == []


def test_existing_targets_are_kept_without_overwrite(store_path: Path, tmp_path: Path) -> None:
    csv = tmp_path / "keep.csv"
    csv.write_text("mine\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with Store(store_path) as store:
        with pytest.raises(StoreError, match="already exists"):
            store.export(csv, format="csv")
        with pytest.raises(StoreError, match="not a previous Parquet export"):
            store.export(folder, overwrite=True)
        with pytest.raises(StoreError, match="is a file"):
            store.export(csv, format="parquet", overwrite=True)
        empty = tmp_path / "empty"
        empty.mkdir()
        assert store.export(empty, device_ids="a") == len(DPS) * BUCKETS
    assert csv.read_text() == "mine\n"
    assert (folder / "notes.txt").read_text() == "mine"
    assert leftovers(tmp_path) == []
