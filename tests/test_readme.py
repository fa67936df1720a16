"""Every snippet of the README runs: Python blocks, `belimo` command lines, config files.

Python blocks and command lines run against the session's emulator (the demo tenant), through
the BELIMO_* variables the README tells users to set; each block in a fresh working directory.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from belimo_cloud.cli.app import app
from belimo_cloud.config import DEMO_CREDENTIALS, ENV_VARS, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Commands that run in the foreground (the servers) or have their own slow test (the demo).
NOT_RUN = ("belimo emulator serve", "belimo serve", "belimo demo")


def blocks(language: str) -> list[str]:
    return [
        code for lang, code in FENCE.findall(README.read_text(encoding="utf-8")) if lang == language
    ]


def block_id(code: str) -> str:
    first = next(line for line in code.splitlines() if line.strip())
    return first.strip()[:50]


@pytest.fixture
def readme_env(emulator_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The README's BELIMO_* settings, pointed at the test emulator; a fresh working dir."""
    for key, value in DEMO_CREDENTIALS.items():
        monkeypatch.setenv(ENV_VARS[key], value)
    monkeypatch.setenv("BELIMO_API_URL", emulator_url)
    monkeypatch.setenv("BELIMO_RATE_LIMIT", "0")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_readme_has_snippets() -> None:
    assert len(blocks("python")) >= 3
    assert any(line.startswith("belimo ") for code in blocks("sh") for line in code.splitlines())


@pytest.mark.slow
@pytest.mark.parametrize("code", blocks("python"), ids=block_id)
def test_python_block(code: str, readme_env: Path) -> None:
    import matplotlib.pyplot as plt

    try:
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    finally:
        plt.close("all")


def shell_commands(code: str) -> list[list[str]]:
    commands = []
    for line in code.splitlines():
        words = shlex.split(line, comments=True)
        if words and (words[0] in ("belimo", "export")):
            commands.append(words)
    return commands


@pytest.mark.slow
@pytest.mark.parametrize("code", [c for c in blocks("sh") if shell_commands(c)], ids=block_id)
def test_shell_block(code: str, readme_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for words in shell_commands(code):
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            monkeypatch.setenv(name, value)
            continue
        if " ".join(words).startswith(NOT_RUN):
            continue
        result = CliRunner().invoke(app, words[1:])
        assert result.exit_code == 0, f"{' '.join(words)}\n{result.output}"


@pytest.mark.parametrize("code", blocks("toml"), ids=block_id)
def test_config_file_block(code: str, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(code, encoding="utf-8")
    names = re.findall(r"^\[profiles\.(\w+)\]", code, re.MULTILINE)
    assert names
    for name in names:
        settings = load_settings(name, config_file=path, env={})
        assert settings.profile == name
