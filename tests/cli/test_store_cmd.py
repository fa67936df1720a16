"""`belimo sync`, `store info` and `export` on a real DuckDB file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, one_line

SYNC = (
    "sync",
    "--search",
    "Heizung EG",
    "--datapoints",
    "heating_energy,power",
    "--from",
    "2018-01-01",
    "--to",
    "2018-01-08",
    "--resolution",
    "1h",
)


@pytest.fixture
def store(invoke: Invoke, on_emulator: str, tmp_path: Path) -> Path:
    path = tmp_path / "fleet.duckdb"
    result = invoke(*SYNC, "--store", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert report["devices"] == 4
    assert report["series"] == 8
    assert report["requests"] == 4
    assert report["points"] == 8 * 7 * 24
    assert "4 of 4 requests" in result.stderr
    return path


def test_a_second_sync_makes_no_request(invoke: Invoke, store: Path) -> None:
    result = invoke(*SYNC, "--store", str(store), "--format", "json")
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert report["requests"] == 0
    assert report["up_to_date"] == 8
    assert "0 of 0 requests" in result.stderr
    assert "requests" in invoke(*SYNC, "--store", str(store)).stdout


def test_store_info_in_every_format(invoke: Invoke, store: Path) -> None:
    as_json = invoke("store", "info", "--store", str(store), "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    series = json.loads(as_json.stdout)
    assert len(series) == 8
    assert {s["rows"] for s in series} == {7 * 24}
    # --from 2018-01-01 is local midnight (Europe/Zurich, CET): 23:00 UTC the day before.
    assert {s["first"] for s in series} == {"2017-12-31T23:00:00Z"}
    assert "8 series" in one_line(as_json.stderr)
    as_csv = invoke("store", "info", "--store", str(store), "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(as_csv.stdout)))) == 8
    table = invoke("store", "info", "--store", str(store))
    assert "Energieventil Heizung EG Nord-Ost" in table.stdout


def test_export_csv_and_parquet(invoke: Invoke, store: Path, tmp_path: Path) -> None:
    target = tmp_path / "fleet.csv"
    result = invoke("export", "--store", str(store), "--format", "csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "exported 1344 rows" in one_line(result.stderr)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 8 * 7 * 24
    assert {"device_id", "datapoint_id", "timestamp", "value"} <= set(rows[0])
    folder = tmp_path / "parquet"
    result = invoke("export", "--store", str(store), "--format", "parquet", "-o", str(folder))
    assert result.exit_code == 0, result.output
    assert list(folder.rglob("*.parquet"))
    again = invoke("export", "--store", str(store), "--format", "csv", "-o", str(target))
    assert again.exit_code == 1
    assert "--overwrite" in one_line(again.stderr) or "exists" in one_line(again.stderr)


def test_sync_input_errors(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    store = tmp_path / "x.duckdb"
    result = invoke("sync", "--device", "no-such-device", "--store", str(store))
    assert result.exit_code == 3, result.output
    one_line(result.stderr)
    assert not store.exists()
    result = invoke("sync", "--from", "2018-02-01", "--to", "2018-01-01", "--store", str(store))
    assert result.exit_code == 1
    assert "must be after --from" in one_line(result.stderr)
    result = invoke(
        "sync",
        "--search",
        "Heizung EG",
        "--datapoints",
        "no_such_point",
        "--from",
        "2018-01-01",
        "--to",
        "2018-01-02",
        "--store",
        str(store),
    )
    assert result.exit_code == 3, result.output
    assert "no_such_point" in one_line(result.stderr)
    assert not store.exists()


def test_export_of_a_missing_store(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("export", "--store", str(tmp_path / "none.duckdb"), "-o", "x.csv")
    assert result.exit_code == 1
    assert "belimo sync" in one_line(result.stderr)
