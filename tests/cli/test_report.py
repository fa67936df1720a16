"""`belimo report` writes one self-contained HTML file, from the API or from the store."""

from __future__ import annotations

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
    assert str(target) in one_line(result.stderr)
    text = target.read_text(encoding="utf-8")
    assert "Second floor" in text
    assert "Energieventil Heizung 2.OG Nord-Ost" in text
    assert "data:image/png;base64," in text  # figures are inlined
    assert "<script src=" not in text


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
    assert "Energieventil Heizung 2.OG Süd-West" in target.read_text(encoding="utf-8")


def test_report_needs_a_period_from_the_api(invoke: Invoke, on_emulator: str) -> None:
    result = invoke("report", "--from", "2018-02-15", "--to", "2018-02-01")
    assert result.exit_code == 1
    assert "must be after --from" in one_line(result.stderr)
