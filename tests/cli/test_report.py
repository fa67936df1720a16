"""`belimo report` writes one self-contained HTML file, from the API or from the store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, one_line

PERIOD = ("--from", "2018-02-01", "--to", "2018-02-15")


def test_report_from_the_api(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    result = invoke(
        "report", "--search", "Heizung 2.OG", *PERIOD, "-o", str(target), "--title", "Second floor"
    )
    assert result.exit_code == 0, result.output
    # The closing note is the last line (progress lines come first on a slow run).
    assert str(target) in result.stderr.splitlines()[-1]
    text = target.read_text(encoding="utf-8")
    assert "Second floor" in text
    assert "Energieventil Heizung 2.OG Nord-Ost" in text
    assert "data:image/png;base64," in text  # figures are inlined
    assert "<script" not in text
    # The energy check integrated the hourly average power, not the last sample of each hour.
    valves = re.search(r'<table data-table="valves">(.*?)</table>', text, re.S)
    assert valves is not None
    assert "<td>avg</td>" in valves.group(1)
    assert "<td>last</td>" not in valves.group(1)
    # The designed gap of Heizung 2.OG Nord-Ost is a dated finding with a recommendation.
    gap = re.search(
        r'<li data-kind="gap" data-device="[^"]+" data-start="([^"]+)"[^>]*>(.*?)</li>', text, re.S
    )
    assert gap is not None
    assert gap.group(1).startswith("2018-02-05T0")
    assert "Nord-Ost" in gap.group(2) and 'class="advice"' in gap.group(2)
    # Heating only: no cooling ranking or total for valves that never cool.
    assert 'data-table="ranking-heating"' in text
    assert 'data-card="cooling_energy"' not in text


@pytest.mark.slow
def test_report_from_the_store(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    store = str(tmp_path / "fleet.duckdb")
    synced = invoke(
        "sync",
        "--search",
        "Heizung 2.OG",
        "--datapoints",
        "heating_energy,cooling_energy,delta_t,relative_flow,delta_t_setpoint",
        "--from",
        "2018-01-31",
        "--to",
        "2018-02-16",
        "--resolution",
        "1h",
        "--store",
        store,
    )
    assert synced.exit_code == 0, synced.output
    target = tmp_path / "offline.html"
    result = invoke("report", "--store", store, *PERIOD, "-o", str(target))
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "Energieventil Heizung 2.OG Süd-West" in text
    # Only last buckets were synced: the report says so rather than pretending they are avg.
    valves = re.search(r'<table data-table="valves">(.*?)</table>', text, re.S)
    assert valves is not None
    assert "<td>avg</td>" not in valves.group(1)


def test_report_needs_a_period_from_the_api(invoke: Invoke, on_emulator: str) -> None:
    result = invoke("report", "--from", "2018-02-15", "--to", "2018-02-01")
    assert result.exit_code == 1
    assert "must be after --from" in one_line(result.stderr)
