"""The installed command as users run it: a real process, real pipes, real exit statuses."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli.conftest import Run, demo_env, one_line


@pytest.fixture
def env(emulator_url: str) -> dict[str, str]:
    return demo_env(emulator_url)


@pytest.mark.slow
def test_json_csv_and_table_through_a_pipe(run_belimo: Run, env: dict[str, str]) -> None:
    as_json = run_belimo("devices", "--search", "Kühlung", "--format", "json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert rows
    assert all("Kühlung" in row["display_name"] for row in rows)

    as_csv = run_belimo("--format", "csv", "devices", "--search", "Kühlung", env=env)
    assert as_csv.returncode == 0, as_csv.stderr
    assert [r["device_id"] for r in csv.DictReader(io.StringIO(as_csv.stdout))] == [
        r["device_id"] for r in rows
    ]

    table = run_belimo("devices", "--search", "Kühlung", env=env)
    assert table.returncode == 0, table.stderr
    assert all(row["display_name"] in table.stdout for row in rows)


@pytest.mark.slow
def test_history_to_a_file(run_belimo: Run, env: dict[str, str], tmp_path: Path) -> None:
    device = json.loads(
        run_belimo("devices", "--search", "Heizung", "--format", "json", env=env).stdout
    )[0]["device_id"]
    target = tmp_path / "history.json"
    result = run_belimo(
        "history",
        device,
        "Heating_E_J",
        "--from",
        "2018-03-01",
        "--to",
        "2018-03-02",
        "--resolution",
        "15m",
        "--format",
        "json",
        "-o",
        str(target),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "wrote 96 rows" in one_line(result.stderr)
    rows = json.loads(target.read_text(encoding="utf-8"))
    # Local midnight in Europe/Zurich (CET) is 23:00 UTC the day before.
    assert [r["timestamp"] for r in rows[:2]] == ["2018-02-28T23:00:00Z", "2018-02-28T23:15:00Z"]


def test_bad_date_in_a_real_process(run_belimo: Run, env: dict[str, str]) -> None:
    result = run_belimo("history", "x", "heating_energy", "--from", "31.12.2018", env=env)
    assert result.returncode == 1
    assert one_line(result.stderr).startswith("error: --from")
    assert result.stdout == ""


def test_python_dash_m_and_help(run_belimo: Run) -> None:
    result = run_belimo("--help")
    assert result.returncode == 0
    assert "belimo" in result.stdout
