"""`belimo serve` on the command line: refusals in one line, and a real server that answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from belimo_cloud.cli import serve_cmd
from belimo_cloud.cli.exit_codes import ExitStatus
from tests.web.server import free_port

RUNNER = """
import typer
from belimo_cloud.cli import serve_cmd
app = typer.Typer()
app.callback()(lambda: None)
serve_cmd.register(app)
app()
"""


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """belimo"""

    serve_cmd.register(app)
    return app


def invoke(*args: str) -> tuple[int, str]:
    from belimo_cloud.cli.exit_codes import exit_status

    result = CliRunner().invoke(make_app(), list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return int(exit_status(result.exception)), str(result.exception)
    return result.exit_code, result.output


def test_listening_beyond_loopback_needs_a_token(store_path: Path) -> None:
    status, text = invoke("serve", "--store", str(store_path), "--host", "0.0.0.0")
    assert status != 0
    assert "--token" in text
    assert "\n" not in text.strip()


def test_a_missing_store_is_one_line(tmp_path: Path) -> None:
    status, text = invoke("serve", "--store", str(tmp_path / "none.duckdb"))
    assert status == ExitStatus.USAGE
    assert "no store at" in text
    assert "belimo sync" in text


def test_the_address_never_shows_the_token() -> None:
    assert serve_cmd.dashboard_url("127.0.0.1", 8050) == "http://127.0.0.1:8050/"
    assert "<your --token>" in serve_cmd.dashboard_url("0.0.0.0", 8050, token=True)
    assert serve_cmd.dashboard_url("::1", 9000) == "http://[::1]:9000/"


@pytest.mark.slow
def test_belimo_serve_answers_on_loopback(store_path: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BELIMO_")}
    env["BELIMO_CONFIG"] = str(tmp_path / "none.toml")
    child = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "serve", "--store", str(store_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise
                time.sleep(0.2)
        assert answer.status_code == 200
        assert answer.json()["devices"] > 0
        assert "live" in answer.json()
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
    finally:
        child.terminate()
        child.wait(timeout=30)


@pytest.mark.slow
def test_the_demo_store_serves_every_page(demo_url: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from belimo_cloud.web import ServeConfig, create_app
    from tests.web.demo_store import demo_client

    path = tmp_path / "demo.duckdb"
    with demo_client(demo_url) as client:
        serve_cmd.demo_store(client, path, start="2018-01-01", end="2018-03-01")
    assert "belimo serve --store" in serve_cmd.open_hint(path)
    with TestClient(create_app(ServeConfig(store=path)), base_url="http://127.0.0.1:8050") as api:
        rows = api.get("/api/devices").json()
        assert len(rows) > 10
        heating = api.get("/api/fleet/energy?by=day").json()["directions"]["heating"]
        assert len(heating["period"]) == 31 + 28
        device = next(r["device_id"] for r in rows if r["kind"] == "heating")
        assert api.get(f"/devices/{device}").status_code == 200
        series = api.get(f"/api/devices/{device}/series").json()["series"]
        assert series["AbsPower_Fb_W"]["points"] == (31 + 28) * 24
        assert series["T1_remote_K"]["unit"] == "°C"
