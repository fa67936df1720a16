"""`belimo emulator serve --fleet-size N` serves N valves; a size out of bounds is one line."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest

BELIMO = [sys.executable, "-m", "belimo_cloud.cli"]
FORM = {
    "grant_type": "password",
    "username": "__UserPlaceHolder__",
    "password": "__PasswordPlaceHolder__",
    "client_id": "__ClientIDPlaceHolder__",
    "client_secret": "__ClientSecretPlaceHolder__",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def call(url: str, path: str, token: str | None = None, form: dict[str, str] | None = None) -> Any:
    data = urllib.parse.urlencode(form).encode() if form else None
    request = urllib.request.Request(url + path, data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


@pytest.mark.slow
@pytest.mark.parametrize("size", ["10", "20001"])
def test_a_fleet_size_out_of_bounds_is_one_clear_line(size: str) -> None:
    done = subprocess.run(
        [*BELIMO, "emulator", "serve", "--port", "0", "--fleet-size", size],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "--fleet-size" in lines[0] and "36" in lines[0] and "20000" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_serve_with_a_fleet_size_lists_that_many_valves() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            *BELIMO,
            "emulator",
            "serve",
            "--port",
            str(port),
            "--now",
            "2019-03-01T12:00:00Z",
            "--fleet-size",
            "120",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        token = None
        deadline = time.monotonic() + 60
        while token is None and time.monotonic() < deadline:
            try:
                token = call(url, "/oauth/token", form=FORM)["access_token"]
            except OSError:
                time.sleep(0.2)
        assert token is not None, "the emulator did not answer within 60 s"
        page = call(url, "/api/v3/devices?limit=2000", token)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert page["paging"]["total"] == 122  # 120 valves and the two gateways
    assert sum(d["deviceType"] == "1:energyValve3" for d in page["data"]) == 120
    assert "120 energy valves" in out
    assert process.returncode == 0, err
