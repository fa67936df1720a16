"""One calendar: a date without a zone is local time in --tz in every command.

`sync --from 2018-01-01` must store what `energy --from 2018-01-01` needs for a whole, `ok`
January: both read 2018-01-01 as local midnight in Europe/Zurich.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke

RANGE = ("--from", "2018-01-01", "--to", "2018-03-01")


def test_sync_then_energy_covers_local_months(
    invoke: Invoke, on_emulator: str, tmp_path: Path
) -> None:
    store = str(tmp_path / "s.duckdb")
    synced = invoke(
        "sync",
        "--search",
        "Heizung EG",
        "--datapoints",
        "heating_energy",
        *RANGE,
        "--resolution",
        "1h",
        "--store",
        store,
        "--format",
        "json",
    )
    assert synced.exit_code == 0, synced.output
    (report,) = json.loads(synced.stdout)
    assert report["start"] == "2017-12-31T23:00:00Z"  # local midnight, CET
    energy = invoke("energy", "--by", "month", "--store", store, *RANGE, "--format", "json")
    assert energy.exit_code == 0, energy.output
    rows = [r for r in json.loads(energy.stdout) if r["direction"] == "heating"]
    assert {r["period"] for r in rows} == {"2018-01", "2018-02"}
    assert len(rows) == 2 * report["devices"]
    for row in rows:
        assert row["quality"] == "ok", row
        assert row["coverage"] >= 0.99, row


def test_the_same_spelling_means_the_same_instant_in_python(on_emulator: str) -> None:
    from belimo_cloud.cli.options import parse_when
    from belimo_cloud.client.timeutil import parse_time

    for text in ("2018-01-01", "2018-07-01T06:30", "2018-01-01T00:00:00Z"):
        assert parse_time(text) == parse_when(text, "--from")
