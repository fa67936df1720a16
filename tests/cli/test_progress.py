"""cli.progress.working: silent for quick work, visible on stderr for slow work, never on stdout."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from belimo_cloud.cli import progress
from belimo_cloud.cli.progress import working
from tests.cli.conftest import demo_env, read_terminal


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quick_work_prints_nothing() -> None:
    stream = _Pipe()
    with working("Computing energy", stream=stream) as step:
        step("device 1/2")
    assert stream.getvalue() == ""


def test_slow_work_on_a_pipe_prints_periodic_lines_and_a_closing_line() -> None:
    stream = _Pipe()
    gate = threading.Event()
    with working("Computing energy", stream=stream, delay=0.05, every=0.05) as step:
        step("device 3/34")
        gate.wait(0.3)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2
    assert lines[0].startswith("Computing energy: device 3/34")
    assert lines[-1].startswith("Computing energy: done in ")


def test_slow_work_on_a_terminal_draws_in_place_and_erases_the_line() -> None:
    stream = _Tty()
    with working("Loading", stream=stream, delay=0.05) as step:
        step("page 2\nwith a break")
        threading.Event().wait(0.4)
    text = stream.getvalue()
    assert "\n" not in text
    assert "Loading: page 2 with a break" in text
    assert text.endswith("\r")


def test_a_failure_leaves_no_done_line() -> None:
    stream = _Pipe()
    try:
        with working("Loading", stream=stream, delay=0.01, every=10):
            threading.Event().wait(0.2)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert "done" not in stream.getvalue()


def test_disabled_prints_nothing() -> None:
    stream = _Pipe()
    progress.set_enabled(False)
    try:
        with working("Loading", stream=stream, delay=0.0, every=0.01) as step:
            step("x")
            threading.Event().wait(0.1)
    finally:
        progress.set_enabled(True)
    assert stream.getvalue() == ""


_SCRIPT = """
import threading
from belimo_cloud.cli.progress import working
from tests.cli.conftest import demo_env
with working("Working", delay=0.05, every=0.05) as step:
    step("half")
    threading.Event().wait(0.4)
print("RESULT")
"""


def test_stdout_carries_only_the_result_in_a_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "RESULT\n"
    assert "Working: half" in done.stderr


def test_on_a_real_terminal_the_status_is_erased() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # child: stdout and stderr are the terminal
        os.execv(sys.executable, [sys.executable, "-c", _SCRIPT])
    text = read_terminal(fd).decode()
    os.waitpid(pid, 0)
    assert "Working: half" in text
    assert text.rstrip("\r\n").endswith("RESULT")


def test_a_slow_history_reports_on_stderr_only(
    make_emulator: Callable[..., str], tmp_path: Path
) -> None:
    url = make_emulator(latency_ms=1200, rate_limit=0)
    env = {**os.environ, **demo_env(url), "BELIMO_TOKEN_CACHE_DIR": str(tmp_path)}
    args = [
        sys.executable,
        "-m",
        "belimo_cloud.cli",
        "history",
        "Energieventil Heizung EG Nord-Ost",
    ]
    args += ["heating_energy", "--from", "2018-01-01", "--to", "2018-01-02", "--format", "csv"]
    # Each request takes 1.2 s: past 2 s the command says on stderr that it is working, and
    # stdout carries nothing but the CSV.
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "Fetching history" in done.stderr
    assert done.stdout.startswith("device_id,datapoint_id,timestamp,value")
    assert "Fetching history" not in done.stdout
