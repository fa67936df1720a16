"""SIGINT dispositions are respected and restored; ordinary write errors are never a Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType

import pandas as pd
import pytest

from belimo_cloud.errors import StoreError
from belimo_cloud.store import Store
from belimo_cloud.store import writer as writer_module

from .helpers import STEP, T0, chunk

CHUNKS = 30
ROWS = 20_000  # per datapoint and chunk

# Writes CHUNKS chunks of 3 x ROWS rows; prints "ready" before the first, then its row count.
WRITER = f"""
import signal, sys
import numpy as np
import pandas as pd
from belimo_cloud.store import Store

if sys.argv[2] == "default":
    signal.signal(signal.SIGINT, signal.SIG_DFL)
def disposition():
    return getattr(signal.getsignal(signal.SIGINT), "name", "handler")

print(disposition(), flush=True)
store = Store(sys.argv[1])
t0 = pd.Timestamp("2024-01-01", tz="UTC")
print("ready", flush=True)
for w in range({CHUNKS}):
    stamps = pd.date_range(t0 + pd.Timedelta(minutes=15 * {ROWS} * w), periods={ROWS},
                           freq="15min", tz="UTC")
    frame = pd.concat([pd.DataFrame({{"datapoint_id": dp, "timestamp": stamps,
                                     "value": np.random.rand({ROWS})}}) for dp in "xyz"])
    store.write_chunk(frame, device_id="d", datapoint_ids=list("xyz"), resolution="15m",
                      aggregation="last", start=stamps[0], end=stamps[-1] + pd.Timedelta("15min"))
print(disposition(), len(store.read()), flush=True)
"""


def consistent(path: Path) -> int:
    """Rows in the store, after checking the coverage claims exactly the rows stored."""
    with Store(path) as store:
        rows = store.read()
        coverage = store.coverage("15m", "last")
    covered = coverage.get(("d", "x"), [])
    assert all(coverage.get(("d", dp), []) == covered for dp in "yz")
    buckets = sum((end - start) // pd.Timedelta("15min") for start, end in covered)
    assert len(rows) == 3 * buckets
    return len(rows)


def write(store: Store, frame: pd.DataFrame, start: datetime = T0, buckets: int = 8) -> int:
    return store.write_chunk(
        frame,
        device_id="a",
        datapoint_ids=["x"],
        resolution="15m",
        aggregation="last",
        start=start,
        end=start + buckets * STEP,
    )


def bad_chunk() -> pd.DataFrame:
    frame = chunk("a", ["x"], T0 + 8 * STEP, 8).astype({"timestamp": "object"})
    frame.loc[3, "timestamp"] = "not a time"
    return frame


def custom_handler(signum: int, frame: FrameType | None) -> None:
    """An application's own SIGINT handler."""


DISPOSITIONS: dict[str, Callable[[int, FrameType | None], object] | signal.Handlers] = {
    "python-default": signal.default_int_handler,
    "custom": custom_handler,
    "ignored": signal.SIG_IGN,
    "default": signal.SIG_DFL,
}


@pytest.fixture
def restore_sigint() -> Iterator[None]:
    saved = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)


@pytest.mark.usefixtures("restore_sigint")
@pytest.mark.parametrize("name", sorted(DISPOSITIONS))
def test_library_use_leaves_the_sigint_disposition_as_it_was(tmp_path: Path, name: str) -> None:
    disposition = DISPOSITIONS[name]
    signal.signal(signal.SIGINT, disposition)
    store = Store(tmp_path / "s.duckdb")
    assert write(store, chunk("a", ["x"], T0, 8)) == 8
    assert signal.getsignal(signal.SIGINT) == disposition
    with pytest.raises(StoreError):
        write(store, bad_chunk(), T0 + 8 * STEP)
    assert signal.getsignal(signal.SIGINT) == disposition
    store.close()
    assert signal.getsignal(signal.SIGINT) == disposition


def test_ordinary_error_during_an_insert_is_itself_and_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        write(store, chunk("a", ["x"], T0, 8))
        before = store.read()
        with pytest.raises(StoreError, match=r"writing to store .* failed .*Conversion"):
            write(store, bad_chunk(), T0 + 8 * STEP)
        pd.testing.assert_frame_equal(store.read(), before)
        assert store.coverage("15m", "last") == {("a", "x"): [(T0, T0 + 8 * STEP)]}
        # The connection is usable again at once: no transaction was left open.
        assert write(store, chunk("a", ["x"], T0 + 8 * STEP, 8), T0 + 8 * STEP) == 8
    with Store(path) as store:
        assert len(store.read()) == 16


def test_python_error_inside_the_transaction_surfaces_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the samples went in (forced: no real input fails there) undoes them."""
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        write(store, chunk("a", ["x"], T0, 8))

        def broken(*args: object, **kwargs: object) -> None:
            raise ValueError("coverage bookkeeping failed")

        monkeypatch.setattr(writer_module, "_add_coverage", broken)
        with pytest.raises(ValueError, match="coverage bookkeeping failed"):
            write(store, chunk("a", ["x"], T0 + 8 * STEP, 8), T0 + 8 * STEP)
        monkeypatch.undo()
        assert len(store.read()) == 8
        assert store.coverage("15m", "last") == {("a", "x"): [(T0, T0 + 8 * STEP)]}


def test_insert_error_in_a_process_is_not_an_interrupt(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from tests.store.test_signals import T0, STEP, bad_chunk, write\n"
        "from belimo_cloud.store import Store\n"
        "write(Store(sys.argv[1]), bad_chunk(), T0 + 8 * STEP)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "s.duckdb")],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
        timeout=60,
    )
    assert done.returncode == 1
    assert "StoreError" in done.stderr and "KeyboardInterrupt" not in done.stderr


def start_writer(path: Path, mode: str, *, background: bool) -> tuple[subprocess.Popen[str], int]:
    """The writer, optionally as a script's background job (``cmd &`` in a non-interactive sh)."""
    command = [sys.executable, "-c", WRITER, str(path), mode]
    if background:
        command = ["sh", "-c", '"$@" & echo $!; wait $!', "sh", *command]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    pid = int(child.stdout.readline()) if background else child.pid
    return child, pid


def test_background_job_ignoring_sigint_keeps_writing(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    child, pid = start_writer(path, "inherited", background=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "SIG_IGN"
    assert child.stdout.readline().strip() == "ready"
    for _ in range(5):
        time.sleep(0.1)
        subprocess.run(["kill", "-INT", str(pid)], check=False)
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    disposition, rows = out.split()
    assert disposition == "SIG_IGN"
    assert int(rows) == consistent(path) == 3 * ROWS * CHUNKS


def test_sig_dfl_ends_the_process_by_the_signal_and_keeps_the_store_whole(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    child, _ = start_writer(path, "default", background=False)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "SIG_DFL"
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGINT
    assert consistent(path) % (3 * ROWS) == 0
