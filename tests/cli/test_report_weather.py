"""`belimo report --weather` on the demo cloud: the designed heating cut shows, normalised.

The demo valve with the designed measure (analysis truth: MEASURES[0], 15 % less heating load
from 2018-01-01 at equal weather) must show about -15 % in the report over 2018; the other
valves of the selection about 0.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from belimo_cloud.emulator.model.measures import MEASURES
from tests.cli.conftest import Invoke, one_line
from tests.client.test_openmeteo import _Archive, serve_archive

MEASURE = MEASURES[0]
ROW = re.compile(r'<tr[^>]*data-device="([^"]+)" data-direction="heating" data-change="([^"]+)"')


def _weather(invoke: Invoke, path: Path, start: str, end: str) -> None:
    made = invoke("emulator", "weather", "--from", start, "--to", end, "-o", str(path))
    assert made.exit_code == 0, made.output


def _section(html: str) -> str:
    found = re.search(r'<section id="weather">(.*?)</section>', html, re.S)
    assert found is not None
    return found.group(1)


def test_report_over_2018_shows_the_designed_cut(
    invoke: Invoke, on_emulator: str, tmp_path: Path
) -> None:
    weather = tmp_path / "weather.csv"
    _weather(invoke, weather, "2017-01-01", "2019-01-01")
    target = tmp_path / "report.html"
    result = invoke(
        "report",
        "--search",
        "Heizung EG",
        "--from",
        "2018-01-01",
        "--to",
        "2019-01-01",
        "--weather",
        str(weather),
        "-o",
        str(target),
    )
    assert result.exit_code == 0, result.output
    assert str(target) in result.stderr.splitlines()[-1]
    section = _section(target.read_text(encoding="utf-8"))
    table = re.search(r'<table data-table="weather-heating">(.*?)</table>', section, re.S)
    assert table is not None
    rows = table.group(1).split("</tr>")
    changes = {}
    for row in rows:
        found = ROW.search(row)
        if found:
            name = re.findall(r"<td>([^<]+)</td>", row)[0]
            changes[name] = float(found.group(2))
    measured = changes.pop(MEASURE.display_name)
    assert measured == pytest.approx(-100 * MEASURE.share, abs=3.0)
    changes.pop("Fleet")
    assert len(changes) == 3
    for name, change in changes.items():
        assert abs(change) < 3.0, name
    # The figure of the fleet's largest change is the measured valve's signature.
    figure = section.split("<figure>")[1]
    assert "data:image/png;base64," in figure and MEASURE.display_name in figure


def test_report_without_the_baseline_year_says_what_is_missing(
    invoke: Invoke, on_emulator: str, tmp_path: Path
) -> None:
    weather = tmp_path / "weather.csv"
    _weather(invoke, weather, "2018-01-01", "2018-03-01")
    target = tmp_path / "report.html"
    result = invoke(
        "report",
        "--search",
        "Heizung 2.OG",
        "--from",
        "2018-02-01",
        "--to",
        "2018-02-15",
        "--weather",
        str(weather),
        "-o",
        str(target),
    )
    assert result.exit_code == 0, result.output
    section = _section(target.read_text(encoding="utf-8"))
    assert "the weather covers 31 of the 365 baseline days" in section
    assert "2017-02-01 to 2018-01-31" in section
    assert "<table" not in section


def test_report_with_a_missing_weather_file_fails_in_one_line(
    invoke: Invoke, on_emulator: str, tmp_path: Path
) -> None:
    result = invoke(
        "report",
        "--from",
        "2018-02-01",
        "--to",
        "2018-02-15",
        "--weather",
        str(tmp_path / "nowhere.csv"),
        "-o",
        str(tmp_path / "r.html"),
    )
    assert result.exit_code != 0
    assert "nowhere.csv does not exist" in one_line(result.stderr)
    assert not (tmp_path / "r.html").exists()


def test_report_with_open_meteo_asks_the_archive_for_both_years(
    invoke: Invoke, on_emulator: str, tmp_path: Path, isolated_home: Path
) -> None:
    target = tmp_path / "report.html"
    with serve_archive() as url:
        result = invoke(
            "report",
            "--search",
            "Heizung 2.OG Nord-Ost",
            "--from",
            "2018-02-01",
            "--to",
            "2018-02-15",
            "--weather",
            "open-meteo:47.38,8.54",
            "--weather-url",
            url,
            "-o",
            str(target),
        )
    assert result.exit_code == 0, result.output
    asked = _Archive.requests[0]
    assert (asked["start_date"], asked["end_date"]) == ("2017-02-01", "2018-02-14")
    section = _section(target.read_text(encoding="utf-8"))
    assert 'data-table="weather-degree-days"' in section
    assert "2017-02-01 to 2018-01-31" in section


@pytest.mark.slow
def test_report_from_a_store_reads_the_baseline_year(
    invoke: Invoke, on_emulator: str, tmp_path: Path
) -> None:
    store = str(tmp_path / "fleet.duckdb")
    synced = invoke(
        "sync",
        "--search",
        MEASURE.display_name,
        "--datapoints",
        "heating_energy,cooling_energy",
        "--from",
        "2016-12-31",
        "--to",
        "2018-07-02",
        "--resolution",
        "1h",
        "--store",
        store,
    )
    assert synced.exit_code == 0, synced.output
    weather = tmp_path / "weather.csv"
    _weather(invoke, weather, "2017-01-01", "2018-07-01")
    target = tmp_path / "offline.html"
    period = ("--from", "2018-01-01", "--to", "2018-07-01")
    result = invoke(
        "report", "--store", store, *period, "--weather", str(weather), "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    section = _section(target.read_text(encoding="utf-8"))
    found = ROW.search(section)
    assert found is not None, section[:2000]
    assert float(found.group(2)) == pytest.approx(-100 * MEASURE.share, abs=3.0)
