"""Each failure class exits with its status and one line that says what to do."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.cli.conftest import Invoke, Run, demo_env, one_line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.settimeout(30)
        yield sock


def test_wrong_password_exits_2(
    invoke: Invoke, on_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BELIMO_PASSWORD", "not-the-password")
    result = invoke("stats")
    assert result.exit_code == 2, result.output
    line = one_line(result.stderr)
    assert line.startswith("error: ")
    assert "not-the-password" not in result.output
    assert "password" in line.lower() or "credential" in line.lower()


def test_unknown_device_exits_3(invoke: Invoke, on_emulator: str) -> None:
    for command in (
        ["state", "no-such-device"],
        ["datapoints", "no-such-device"],
        ["history", "no-such-device", "heating_energy"],
    ):
        result = invoke(*command)
        assert result.exit_code == 3, result.output
        line = one_line(result.stderr)
        assert "no-such-device" in line
        assert "belimo devices" in line


def test_unknown_profile_exits_3(invoke: Invoke, on_emulator: str) -> None:
    result = invoke("profile", "nosuchprofile/9.9")
    assert result.exit_code == 3, result.output
    one_line(result.stderr)


@pytest.mark.slow
def test_unreachable_server_exits_5(run_belimo: Run) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_belimo("stats", env=demo_env(url))
    assert result.returncode == 5, result.stderr
    line = one_line(result.stderr)
    assert line.startswith("error: ")
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_server_answering_errors_exits_4(
    run_belimo: Run, make_emulator: Callable[..., str]
) -> None:
    url = make_emulator(error_rate=1.0, rate_limit=0)
    result = run_belimo("devices", env=demo_env(url))
    assert result.returncode == 4, result.stderr
    line = one_line(result.stderr)
    assert "503" in line
    assert "Traceback" not in result.stderr


def test_verbose_adds_detail(invoke: Invoke, on_emulator: str) -> None:
    result = invoke("-v", "state", "no-such-device")
    assert result.exit_code == 3
    assert len([line for line in result.stderr.splitlines() if line.strip()]) > 1
    assert "DEBUG belimo_cloud" in result.stderr
    quiet = invoke("state", "no-such-device")
    assert "DEBUG" not in quiet.stderr


def test_ctrl_c_exits_130(silent_server: socket.socket) -> None:
    url = f"http://127.0.0.1:{silent_server.getsockname()[1]}"
    process = subprocess.Popen(
        [sys.executable, "-m", "belimo_cloud.cli", "devices"],
        env={**os.environ, **demo_env(url, BELIMO_TIMEOUT="60")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # The command rightly keeps an inherited SIG_IGN (test_hostile covers that); a test
        # run started in the background (`pytest &` in a script) would hand it one.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    try:
        connection, _ = silent_server.accept()  # the command is now waiting for an answer
        with connection:
            process.send_signal(signal.SIGINT)
            _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert one_line(err).startswith("error: interrupted")
    assert "Traceback" not in err
