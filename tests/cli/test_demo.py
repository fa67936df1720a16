"""`belimo demo` tells the whole story and writes the figure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.conftest import Run


@pytest.mark.slow
def test_demo_writes_the_figure(run_belimo: Run, tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    result = run_belimo("demo", "--out", str(out), env={"MPLBACKEND": "Agg"}, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    figure = out / "heating_energy.png"
    assert figure.is_file()
    assert figure.stat().st_size > 10_000
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for step in ("Step 1", "Step 2", "Step 3", "Step 4"):
        assert step in result.stdout
    assert "Heizung" in result.stdout
    assert "Heating_E_J" in result.stdout
    assert str(figure.resolve()) in result.stdout
    report = out / "report.html"
    text = report.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html")
    # The report's energy check integrated hourly average power, as `belimo report` does.
    valves = re.search(r'<table data-table="valves">(.*?)</table>', text, re.S)
    assert valves is not None
    assert "<td>avg</td>" in valves.group(1)
    assert "<td>last</td>" not in valves.group(1)
    assert str(report.resolve()) in result.stdout
