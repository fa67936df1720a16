"""A store on a read-only file or directory can be read; writing it says why it can't."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from belimo_cloud.errors import StoreError
from belimo_cloud.store import Store

from .helpers import STEP, T0, chunk

# Root ignores file modes: as root, the reader runs in a mount namespace where the store's file
# or directory is bind-mounted read-only (EROFS); otherwise the modes are taken away.
AS_ROOT = os.geteuid() == 0
READ_ONLY_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


READ = """
import sys
from belimo_cloud.errors import StoreError
from belimo_cloud.store import Store

path, mode = sys.argv[1], sys.argv[2]
store = Store.open(path, read_only=True) if mode == "explicit" else Store(path)
frame = store.read()
print(len(frame), frame["value"].sum(), store.read_only, store.info().rows)
try:
    store.save_catalogue(store.catalogue())
except StoreError as exc:
    print("refused:", exc)
store.close()
"""


def can_mount_read_only() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", READ_ONLY_MOUNT, "sh", "/tmp", "true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


needs_read_only = pytest.mark.skipif(
    AS_ROOT and not can_mount_read_only(),
    reason="running as root without a mount namespace: nothing can be made read-only",
)


def lock(path: Path, *, directory: bool) -> None:
    """Take write permission away (effective for users other than root)."""
    path.chmod(0o444)
    if directory:
        path.parent.chmod(0o555)


@pytest.fixture
def shared_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory whose modes are given back afterwards, so pytest can remove it."""
    path = tmp_path / "ro"
    path.mkdir()
    try:
        yield path
    finally:
        for p in (path, *path.rglob("*")):
            p.chmod(0o755 if p.is_dir() else 0o644)


def write_rows(path: Path, buckets: int, start: datetime = T0) -> None:
    with Store(path) as store:
        store.write_chunk(
            chunk("a", ["x"], start, buckets),
            device_id="a",
            datapoint_ids=["x"],
            resolution="15m",
            aggregation="last",
            start=start,
            end=start + buckets * STEP,
        )


def run_reader(path: Path, mode: str, *, directory: bool) -> list[str]:
    command = [sys.executable, "-c", READ, str(path), mode]
    if AS_ROOT:
        target = path.parent if directory else path
        command = ["unshare", "-m", "sh", "-c", READ_ONLY_MOUNT, "sh", str(target), *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@needs_read_only
@pytest.mark.parametrize("mode", ["explicit", "automatic"])
@pytest.mark.parametrize("locked", ["file", "directory"])
def test_read_only_store_can_be_read(shared_dir: Path, mode: str, locked: str) -> None:
    path = shared_dir / "store" / "s.duckdb"
    write_rows(path, 96)
    with Store(path) as store:
        expected = store.read()
    lock(path, directory=locked == "directory")
    summary, refusal = run_reader(path, mode, directory=locked == "directory")
    rows, total, read_only, info_rows = summary.split()
    assert int(rows) == int(info_rows) == len(expected) == 96
    assert float(total) == pytest.approx(expected["value"].sum())
    assert read_only == "True"
    assert refusal.startswith("refused:") and "cannot be written" in refusal
    assert sorted(p.name for p in path.parent.iterdir()) == ["s.duckdb"]


@needs_read_only
def test_read_only_store_with_a_write_ahead_log(shared_dir: Path) -> None:
    """A writer killed before its checkpoint leaves a WAL; a read-only reader still sees it all."""
    path = shared_dir / "s.duckdb"
    write_rows(path, 8)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, pandas as pd\n"
            "from belimo_cloud.store import Store\n"
            "from tests.store.helpers import STEP, T0, chunk\n"
            "s = Store(sys.argv[1])\n"
            "t = T0 + 8 * STEP\n"
            "s.write_chunk(chunk('a', ['x'], t, 8), device_id='a', datapoint_ids=['x'],\n"
            "              resolution='15m', aggregation='last', start=t, end=t + 8 * STEP)\n"
            "print('written', flush=True); time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "written"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert path.with_name("s.duckdb.wal").exists()
    path.with_name("s.duckdb.wal").chmod(0o444)
    lock(path, directory=True)
    summary, _ = run_reader(path, "explicit", directory=True)
    assert int(summary.split()[0]) == 16


def test_explicit_read_only_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store.open(path, read_only=True) as store:
        assert store.read().empty and store.read_only
        with pytest.raises(StoreError, match="cannot be written: it was opened read-only"):
            store.save_catalogue(store.catalogue())
    assert not path.exists()
    write_rows(path, 4)
    before = path.read_bytes()
    with Store.open(path, read_only=True) as first, Store.open(path, read_only=True) as second:
        assert len(first.read()) == len(second.read()) == 4
    assert path.read_bytes() == before
