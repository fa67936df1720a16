"""The command line over the client's failure paths: rate limits, secrets, refused settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, demo_env, one_line
from tests.client.hostile import answer, hostile_server, html_page, token

PASSWORD = "31415926535"


def test_sync_with_the_limiter_off_and_eight_workers_completes_at_two_requests_per_second(
    invoke: Invoke,
    make_emulator: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url = make_emulator(seed=0)  # the emulator's default limit: 2 requests/s per token
    env = demo_env(url, BELIMO_RATE_LIMIT="0", BELIMO_MAX_WORKERS="8", BELIMO_TIMEOUT="10")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = invoke(
        "sync",
        "--datapoints",
        "heating_energy",
        "--from",
        "2018-01-01",
        "--to",
        "2018-01-03",
        "--resolution",
        "1h",
        "--store",
        str(tmp_path / "s.duckdb"),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert report["devices"] > 8  # more requests than workers, all at once
    assert report["points"] > 0


def test_config_never_shows_a_password_in_the_api_url(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BELIMO_API_URL", f"https://admin:{PASSWORD}@api.example.test")
    result = invoke("config")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "****@api.example.test" in result.output


def test_a_rejected_password_value_is_not_echoed(
    invoke: Invoke, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = isolated_home / "belimo.toml"
    cfg.write_text(f"[profiles.default]\npassword = {PASSWORD}\n", encoding="utf-8")
    monkeypatch.setenv("BELIMO_CONFIG", str(cfg))
    result = invoke("devices")
    assert result.exit_code == 1
    assert PASSWORD not in result.output
    assert "invalid value for password" in one_line(result.stderr)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("BELIMO_TIMEOUT", "0"),
        ("BELIMO_RATE_LIMIT", "1e-300"),
        ("BELIMO_RATE_LIMIT", "0.001"),
        ("BELIMO_TIMEOUT", "nan"),
    ],
)
def test_numbers_that_would_hang_are_refused_in_one_line(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv("BELIMO_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv(var, value)
    result = invoke("devices")
    assert result.exit_code == 1
    assert var.removeprefix("BELIMO_").lower() in one_line(result.stderr)


def test_an_html_page_from_the_api_exits_4(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    with hostile_server(**{"/api/v3": html_page()}) as srv:
        for key, value in demo_env(srv.url, BELIMO_BUDGET="5", BELIMO_TIMEOUT="2").items():
            monkeypatch.setenv(key, value)
        result = invoke("devices")
    assert result.exit_code == 4, result.output
    assert "HTML" in one_line(result.stderr)


def test_verbose_retry_logs_never_show_a_password_in_the_api_url(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = answer(503, {"message": "busy"})
    with hostile_server(**{"/api/v3": busy}) as srv:
        url = srv.url.replace("http://", f"http://admin:{PASSWORD}@")
        env = demo_env(url, BELIMO_BUDGET="2", BELIMO_TIMEOUT="1")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        result = invoke("-v", "devices")
    assert result.exit_code == 4, result.output
    assert "retry" in result.stderr
    assert PASSWORD not in result.output and PASSWORD not in result.stderr


def test_a_cr_lf_token_from_the_server_exits_2_without_echo(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hostile_server(**{"/oauth/token": token("abc\r\nX-Evil: 1")}) as srv:
        for key, value in demo_env(srv.url, BELIMO_BUDGET="2").items():
            monkeypatch.setenv(key, value)
        result = invoke("devices")
        api_calls = srv.requests_to("/api/v3")
    assert result.exit_code == 2, result.output
    assert "X-Evil" not in result.output and "X-Evil" not in result.stderr
    assert api_calls == []
