"""The M&V commands are part of `belimo`; the analytics commands say they are working."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from types import ModuleType

import pytest

from belimo_cloud.cli import baseline_cmd, energy_cmd, plot_cmd, progress, report_cmd
from belimo_cloud.cli.app import app
from tests.cli.conftest import Invoke, Run

DAYS = ("--from", "2018-01-08", "--to", "2018-01-10")
VALVE = ("--search", "Heizung EG Süd-West")


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_mv_commands_are_registered(invoke: Invoke) -> None:
    assert {"baseline", "degree-days"} <= {c.name for c in app.registered_commands}
    top = _plain(invoke("--help").stdout)
    assert "baseline" in top and "degree-days" in top
    emulator = _plain(invoke("emulator", "--help").stdout)
    assert "weather" in emulator
    assert "serve" in emulator


def test_the_installed_command_runs_degree_days(run_belimo: Run, tmp_path: Path) -> None:
    weather = tmp_path / "weather.csv"
    made = run_belimo("emulator", "weather", "--from", "2018-01-01", "--to", "2018-02-01")
    assert made.returncode == 0, made.stderr
    weather.write_text(made.stdout + "\n", encoding="utf-8")
    result = run_belimo(
        "degree-days", "--weather", str(weather), "--by", "month", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    (january,) = json.loads(result.stdout)
    assert january["period"] == "2018-01"
    assert january["hdd"] > 0


@pytest.fixture
def eager_status(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Status lines from the first instant (the commands show them after 2 s)."""
    eager = partial(progress.working, delay=0.0, every=60.0)
    module: ModuleType
    for module in (energy_cmd, report_cmd, plot_cmd, baseline_cmd):
        monkeypatch.setattr(module, "working", eager)
    was = progress.enabled()
    progress.set_enabled(True)
    yield
    progress.set_enabled(was)


@pytest.mark.usefixtures("eager_status", "on_emulator")
@pytest.mark.parametrize(
    ("args", "label"),
    [
        (("energy", *VALVE, *DAYS, "--format", "json"), "Computing energy"),
        (("report", *VALVE, *DAYS, "-o", "{tmp}/r.html"), "Writing the report"),
        (("plot", "heatmap", *VALVE, *DAYS, "-o", "{tmp}/h.png"), "Drawing the heatmap figure"),
    ],
)
def test_long_work_shows_a_status_line_on_stderr_only(
    invoke: Invoke, tmp_path: Path, args: tuple[str, ...], label: str
) -> None:
    result = invoke(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert result.exit_code == 0, result.output
    assert label in result.stderr
    assert f"{label}: done in" in result.stderr
    assert label not in result.stdout
    if args[0] == "energy":
        assert json.loads(result.stdout)  # stdout keeps only the data
