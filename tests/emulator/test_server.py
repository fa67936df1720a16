"""Starting and stopping the emulator: background thread, free port, foreground serve()."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from belimo_cloud.emulator import EmulatorOptions, running_emulator


def test_running_emulator_yields_a_loopback_url_and_stops() -> None:
    with running_emulator(EmulatorOptions(rate_limit=0)) as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert httpx.get(f"{url}/api/v3/api-info").json() == {"version": "3.5.0"}
        port = int(url.rsplit(":", 1)[1])
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/v3/api-info", timeout=2)
    # The port is free again.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_two_emulators_run_side_by_side() -> None:
    with running_emulator() as first, running_emulator() as second:
        assert first != second
        for url in (first, second):
            assert httpx.get(f"{url}/api/v3/api-info").status_code == 200


def test_unknown_routes_answer_404_json(emulator_url: str) -> None:
    for path in ("/api/v3/nothing", "/nothing", "/api/v3/devices/x/y/z"):
        response = httpx.get(emulator_url + path)
        assert response.status_code == 404
        body = response.json()
        assert body["error"] == "not_found"
        assert path in body["error_description"]


def test_wrong_method_answers_405_json(emulator_url: str) -> None:
    response = httpx.delete(f"{emulator_url}/api/v3/api-info")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


@pytest.mark.slow
def test_serve_prints_the_base_url_and_serves() -> None:
    code = (
        "from belimo_cloud.emulator import EmulatorOptions\n"
        "from belimo_cloud.emulator.server import serve\n"
        "serve(EmulatorOptions(), host='127.0.0.1', port=0)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert found, line
        assert found.group(1) != "0"
        url = found.group(0)
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"{url}/api/v3/api-info").json() == {"version": "3.5.0"}
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}")
        with busy, running_emulator(port=port):
            pass


def test_fastapi_validation_errors_become_400_naming_the_parameter() -> None:
    import asyncio

    from belimo_cloud.emulator.app import create_app

    app = create_app()

    # No emulator route declares typed parameters; a typed one proves the 422 handler anyway.
    @app.get("/_probe")
    async def probe(count: int) -> dict[str, int]:
        return {"count": count}

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            return await client.get("/_probe", params={"count": "many"})

    response = asyncio.run(call())
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_parameter"
    assert body["parameter"] == "count"
