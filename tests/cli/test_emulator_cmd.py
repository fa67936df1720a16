"""`belimo emulator serve` answers on its port and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.cli.test_failures import free_port


@pytest.mark.slow
def test_serve_until_ctrl_c() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "belimo_cloud.cli",
            "emulator",
            "serve",
            "--port",
            str(port),
            "--now",
            "2026-11-20T12:00:00Z",
            "--rate-limit",
            "0",
        ],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = None
        deadline = time.monotonic() + 60
        while info is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v3/api-info") as answer:
                    info = json.load(answer)
            except OSError:
                time.sleep(0.2)
        assert info is not None and "version" in info
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out + err
    assert "demo cloud stopped" in err
    assert "Traceback" not in err
