"""Tables, JSON and CSV carry the same rows; -o writes them to a file."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from belimo_cloud.cli.render import OutputFormat, emit, emit_record, records

FRAME = pd.DataFrame(
    {
        "device_id": ["a", "b"],
        "timestamp": pd.to_datetime(["2018-01-01T00:00:00Z", "2018-01-01T00:15:00Z"], utc=True),
        "value": [1.5, math.nan],
    }
)


def test_records_are_json_ready() -> None:
    rows = records(FRAME)
    assert rows == [
        {"device_id": "a", "timestamp": "2018-01-01T00:00:00Z", "value": 1.5},
        {"device_id": "b", "timestamp": "2018-01-01T00:15:00Z", "value": None},
    ]
    assert records([{"t": datetime(2018, 1, 1, tzinfo=UTC)}]) == [{"t": "2018-01-01T00:00:00Z"}]


def test_json_is_a_list_of_objects(capsys: pytest.CaptureFixture[str]) -> None:
    emit(FRAME, OutputFormat.json)
    assert json.loads(capsys.readouterr().out) == records(FRAME)


def test_csv_has_a_header_and_empty_missing_cells(capsys: pytest.CaptureFixture[str]) -> None:
    emit(FRAME, OutputFormat.csv)
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows == [
        {"device_id": "a", "timestamp": "2018-01-01T00:00:00Z", "value": "1.5"},
        {"device_id": "b", "timestamp": "2018-01-01T00:15:00Z", "value": ""},
    ]


def test_table_shows_every_row_and_the_chosen_columns(capsys: pytest.CaptureFixture[str]) -> None:
    emit(FRAME, OutputFormat.table, table_columns=["device_id", "value"])
    out = capsys.readouterr().out
    assert "device_id" in out
    assert "timestamp" not in out
    assert "1.5" in out


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "sub" / "rows.json"
    emit(FRAME, OutputFormat.json, target)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "wrote 2 rows" in captured.err
    assert json.loads(target.read_text(encoding="utf-8"))[0]["device_id"] == "a"


def test_one_record(capsys: pytest.CaptureFixture[str]) -> None:
    emit_record({"total_devices": 36, "online": 35}, OutputFormat.json)
    assert json.loads(capsys.readouterr().out) == [{"total_devices": 36, "online": 35}]
    emit_record({"total_devices": 36, "online": 35}, OutputFormat.table)
    out = capsys.readouterr().out
    assert "total_devices" in out
    assert "36" in out
