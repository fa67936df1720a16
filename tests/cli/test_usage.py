"""Bad input exits 1 with one line on stderr that says what to do; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, one_line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["history", "dev", "heating_energy", "--from", "2018-13-01"], "--from"),
        (
            ["history", "dev", "heating_energy", "--from", "2018-02-01", "--to", "2018-01-01"],
            "must be after --from",
        ),
        (
            ["history", "dev", "heating_energy", "--from", "2018-02-01", "--to", "2018-02-01"],
            "must be after --from",
        ),
        (["history", "dev", "heating_energy", "--resolution", "fast"], "--resolution"),
        (["devices", "--format", "xml"], "xml"),
        (["--format", "yaml", "stats"], "yaml"),
        (["export", "-o", "x", "--format", "xlsx"], "xlsx"),
        (["devices", "--sort", "colour"], "--sort"),
        (["devices", "--state", "sleepy"], "--state"),
        (["devices", "--search", ""], "--search"),
        (["no-such-command"], "no-such-command"),
        (["devices", "--no-such-option"], "--no-such-option"),
        (["history"], "device"),
        (["state", "dev", "--at", "noon"], "--at"),
        (["emulator", "serve", "--error-rate", "2"], "--error-rate"),
        (["--profile", "missing", "config"], "missing"),
    ],
)
def test_usage_errors_exit_1_with_one_line(invoke: Invoke, args: list[str], expected: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 1, result.output
    line = one_line(result.stderr)
    assert line.startswith("error: ")
    assert expected in line
    assert "Traceback" not in result.output


def test_no_command_shows_help(invoke: Invoke) -> None:
    result = invoke()
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_help_lists_every_command(invoke: Invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name in (
        "demo",
        "login",
        "logout",
        "stats",
        "devices",
        "profile",
        "datapoints",
        "state",
        "history",
        "emulator",
        "config",
        "sync",
        "export",
        "store",
    ):
        assert name in result.stdout


def test_version(invoke: Invoke) -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("belimo-cloud ")


def test_config_masks_secrets(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELIMO_CLIENT_SECRET", "s3cret-value")
    monkeypatch.setenv("BELIMO_PASSWORD", "pass-value")
    monkeypatch.setenv("BELIMO_USERNAME", "me@example.org")
    result = invoke("config", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "s3cret-value" not in result.output
    assert "pass-value" not in result.output
    assert '"username": "me@example.org"' in result.stdout
    assert '"password": "****"' in result.stdout


def test_an_unwritable_output_file_exits_1(invoke: Invoke, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = invoke("config", "-o", str(blocker / "sub" / "settings.json"))
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith("error: cannot use")
    assert "Traceback" not in result.output
