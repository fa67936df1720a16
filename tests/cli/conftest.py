"""Helpers for CLI tests: run `belimo` in-process (CliRunner) or as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from belimo_cloud.cli.app import app
from belimo_cloud.config import DEMO_CREDENTIALS, ENV_VARS

Invoke = Callable[..., Result]
Run = Callable[..., subprocess.CompletedProcess[str]]


def demo_env(url: str, **extra: str) -> dict[str, str]:
    """BELIMO_* variables pointing the CLI at an emulator with the demo tenant."""
    env = {ENV_VARS[key]: value for key, value in DEMO_CREDENTIALS.items()}
    env.update({"BELIMO_API_URL": url, "BELIMO_RATE_LIMIT": "0", "BELIMO_TIMEOUT": "10"})
    env.update(extra)
    return env


@pytest.fixture
def invoke() -> Invoke:
    """Run the app in-process; stdout and stderr stay apart on the result."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return run


@pytest.fixture
def on_emulator(emulator_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point every BELIMO_* setting at the session's emulator (demo tenant)."""
    for key, value in demo_env(emulator_url).items():
        monkeypatch.setenv(key, value)
    return emulator_url


@pytest.fixture
def run_belimo() -> Run:
    """Run `python -m belimo_cloud.cli` as a real process with the test's environment."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "belimo_cloud.cli", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            check=False,
        )

    return run


def one_line(text: str) -> str:
    """The text's only non-empty line (fails the test if there are more)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {text!r}"
    return lines[0]


def read_terminal(fd: int) -> bytes:
    """All a pseudo-terminal shows until its other side closes (Linux then raises EIO)."""
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)
