"""`belimo emulator serve` refuses bad options and a busy port with one line and status 1."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

BELIMO = [sys.executable, "-m", "belimo_cloud.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BELIMO, "emulator", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.slow
def test_a_busy_port_is_one_clear_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = run("--port", str(port))
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert f"127.0.0.1:{port}" in line and "already in use" in line and "--port" in line
    assert "Traceback" not in done.stderr and "Errno" not in line


@pytest.mark.slow
@pytest.mark.parametrize(
    ("option", "value", "names"),
    [("--speed", "-1", "--speed"), ("--heartbeat", "0", "--heartbeat")],
)
def test_bad_clock_and_stream_options(option: str, value: str, names: str) -> None:
    done = run("--port", "0", option, value)
    assert done.returncode == 1
    assert names in one_line(done.stderr)
