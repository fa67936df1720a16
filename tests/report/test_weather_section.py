"""The weather-normalised year over year: a synthetic fleet with a designed cut and weather.

Three heating valves and one cooling valve run on a known energy signature for two years;
2018 is 1.5 K warmer than 2017, and one heating valve uses 20 % less from 2018-01-01 at equal
weather. The report over 2018 must find -20 % for it and about 0 for the others, although
every heating valve used less energy in the warmer year.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis.weather import read_weather, weather_csv
from belimo_cloud.report import analyse, build_report, write_report
from tests.report.test_report import PROFILE, catalogue

TZ = "Europe/Zurich"
CUT = 0.20
NAMES = {
    "h1": "Heizung Nord",  # the designed cut
    "h2": "Heizung Süd",
    "h3": "Heizung West",
    "c1": "Kühlung Dach",
}
START, END = "2018-01-01", "2019-01-01"


def _devices() -> pd.DataFrame:
    n = len(NAMES)
    return pd.DataFrame(
        {
            "device_id": list(NAMES),
            "display_name": list(NAMES.values()),
            "serial_number": [f"s{i}" for i in range(n)],
            "production_id": [f"p{i}" for i in range(n)],
            "device_type": ["1:energyValve3"] * n,
            "dataprofile": [PROFILE] * n,
            "health_state": ["OK"] * n,
            "health_description": [""] * n,
            "last_seen": pd.to_datetime([pd.Timestamp("2019-01-01 00:00Z")] * n, utc=True),
            "online_days": [700] * n,
            "project_name": ["Limmatpark"] * n,
            "address_city": ["Zürich"] * n,
            "address_country": ["CH"] * n,
        }
    )


def _temperature(first: str = "2017-01-01", last: str = "2019-01-01") -> pd.Series[float]:
    days = pd.date_range(first, last, freq="D", tz=TZ, inclusive="left")
    rng = np.random.default_rng(7)
    season = 10.0 - 10.0 * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - 15) / 365.0)
    warmer = np.where(days.year == 2018, 1.5, 0.0)
    values = season + warmer + rng.normal(0.0, 3.0, len(days))
    return pd.Series(values, index=days, name="temperature")


def _daily_kwh(device: str, temperature: pd.Series[float], rng: np.random.Generator) -> np.ndarray:
    t = temperature.to_numpy()
    if device == "c1":
        kwh = 5.0 + 12.0 * np.maximum(0.0, t - 18.0)
    else:
        slope = {"h1": 20.0, "h2": 14.0, "h3": 9.0}[device]
        kwh = 8.0 + slope * np.maximum(0.0, 15.0 - t)
    kwh = kwh * rng.normal(1.0, 0.04, len(t))
    if device == "h1":
        kwh = np.where(pd.DatetimeIndex(temperature.index).year >= 2018, (1 - CUT) * kwh, kwh)
    return kwh


def _samples(temperature: pd.Series[float]) -> pd.DataFrame:
    """Hourly counter readings (J) of each valve; a day's energy spread over its hours."""
    days = pd.DatetimeIndex(temperature.index)
    hours = pd.date_range(days[0], days[-1] + pd.Timedelta(days=1), freq="h", inclusive="left")
    hours = hours.tz_convert("UTC")
    day_of_hour = hours.tz_convert(TZ).normalize()
    per_day = pd.Series(day_of_hour).value_counts()
    rng = np.random.default_rng(11)
    dp = dict(zip(catalogue()["name"], catalogue()["datapoint_id"], strict=True))
    parts = []
    for device in NAMES:
        kwh = pd.Series(_daily_kwh(device, temperature, rng), index=days)
        hourly = kwh.reindex(day_of_hour).to_numpy() / per_day.reindex(day_of_hour).to_numpy()
        counter = np.concatenate([[1e9], 1e9 + np.cumsum(hourly) * 3.6e6])
        stamps = hours.append(pd.DatetimeIndex([hours[-1] + pd.Timedelta(hours=1)]))
        used = "Cooling_E_J" if device == "c1" else "Heating_E_J"
        idle = "Heating_E_J" if device == "c1" else "Cooling_E_J"
        for name, values in ((used, counter), (idle, np.full(len(stamps), 5e8))):
            parts.append(
                pd.DataFrame(
                    {
                        "device_id": device,
                        "datapoint_id": dp[name],
                        "timestamp": stamps,
                        "value": values,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def fleet() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series[float]]:
    temperature = _temperature()
    return _devices(), catalogue(), _samples(temperature), temperature


def _rows(html: str, direction: str) -> dict[str, float]:
    table = re.search(rf'<table data-table="weather-{direction}">(.*?)</table>', html, re.S)
    assert table is not None, f"no {direction} table"
    found = re.findall(
        r'data-device="([^"]+)" data-direction="[a-z]+" data-change="([^"]+)"', table.group(1)
    )
    return {device: float(change) for device, change in found}


def test_the_designed_cut_is_found_at_typical_weather(fleet: tuple[pd.DataFrame, ...]) -> None:
    devices, cat, samples, temperature = fleet
    data = analyse(devices, cat, samples, start=START, end=END, tz=TZ, weather=temperature)
    comparison = data.weather
    assert comparison is not None and comparison.missing == ""
    rows = comparison.rows.set_index(["device_id", "direction"])
    assert rows.loc[("h1", "heating"), "change_percent"] == pytest.approx(-100 * CUT, abs=2.0)
    for device in ("h2", "h3"):
        row = rows.loc[(device, "heating")]
        assert abs(row["change_percent"]) < 2.0
        assert abs(row["change_percent"]) < row["change_uncertainty_percent"]
        # The warmer year alone lowered the actual energy; normalising takes that out.
        assert row["this_kwh"] < 0.95 * row["last_kwh"]
    assert abs(rows.loc[("c1", "cooling"), "change_percent"]) < 5.0
    # Heating and cooling apart: the fleet has one row per direction, none summed across.
    fleet_rows = comparison.rows[comparison.rows["device_id"] == "fleet"]
    assert sorted(fleet_rows["direction"]) == ["cooling", "heating"]
    heating = comparison.rows[comparison.rows["direction"] == "heating"]
    devices_only = heating[heating["device_id"] != "fleet"]
    assert float(fleet_rows.set_index("direction").loc["heating", "last_kwh"]) == pytest.approx(
        float(devices_only["last_kwh"].sum())
    )
    assert bool(rows.loc[("h1", "heating"), "guideline_14"])
    # Degree days of each year: the warmer year has fewer.
    dd = comparison.degree_days.set_index("year")
    assert dd.loc["this year", "hdd"] < dd.loc["last year", "hdd"]
    assert dd.loc["this year", "hgt"] < dd.loc["last year", "hgt"]
    assert list(dd["days"]) == [365, 365]
    sig = comparison.signature
    assert sig is not None and sig.device_id == "h1" and sig.direction == "heating"


def test_the_section_in_the_html(fleet: tuple[pd.DataFrame, ...], tmp_path: Path) -> None:
    devices, cat, samples, temperature = fleet
    path = write_report(
        tmp_path / "r.html",
        devices,
        cat,
        samples,
        start=START,
        end=END,
        tz=TZ,
        weather=temperature,
    )
    html = path.read_text(encoding="utf-8")
    section = re.search(r'<section id="weather">(.*?)</section>', html, re.S)
    assert section is not None
    text = section.group(1)
    assert "Weather-normalised, year over year" in text
    heating = _rows(html, "heating")
    assert heating["h1"] == pytest.approx(-100 * CUT, abs=2.0)
    assert set(heating) == {"h1", "h2", "h3", "fleet"}
    assert set(_rows(html, "cooling")) == {"c1", "fleet"}
    assert 'data-table="weather-degree-days"' in text
    assert "HGT 20/12" in text
    assert "Guideline 14" in text
    # The energy signature of the largest change, inlined.
    assert text.count("data:image/png;base64,") == 1
    assert "Heizung Nord" in text.split("<figure>")[1]


def test_a_weather_frame_works_like_a_series(fleet: tuple[pd.DataFrame, ...]) -> None:
    devices, cat, samples, temperature = fleet
    text = weather_csv(
        pd.DataFrame(
            {
                "site": "zurich",
                "timestamp": [f"{d:%Y-%m-%d}" for d in temperature.index],
                "temperature": temperature.to_numpy(),
            }
        )
    )
    frame = read_weather(__import__("io").StringIO(text), tz=TZ)
    one = analyse(devices, cat, samples, start=START, end=END, tz=TZ, weather=frame)
    two = analyse(devices, cat, samples, start=START, end=END, tz=TZ, weather=temperature)
    assert one.weather is not None and two.weather is not None
    a = one.weather.rows.set_index(["device_id", "direction"])["change_percent"]
    b = two.weather.rows.set_index(["device_id", "direction"])["change_percent"]
    pd.testing.assert_series_equal(a, b, atol=0.05)


def _section_text(html: str) -> str:
    section = re.search(r'<section id="weather">(.*?)</section>', html, re.S)
    assert section is not None
    return section.group(1)


def test_without_weather_the_section_says_so_in_one_line(
    fleet: tuple[pd.DataFrame, ...],
) -> None:
    devices, cat, samples, _ = fleet
    html = build_report(devices, cat, samples, start=START, end=END, tz=TZ, figures=False)
    text = _section_text(html)
    assert "No weather given" in text
    assert "<table" not in text
    assert text.count("<p") == 1


def test_without_the_baseline_year_the_section_says_what_is_missing(
    fleet: tuple[pd.DataFrame, ...],
) -> None:
    devices, cat, samples, temperature = fleet
    recent = samples[samples["timestamp"] >= pd.Timestamp("2017-11-01", tz=TZ)]
    html = build_report(
        devices, cat, recent, start=START, end=END, tz=TZ, figures=False, weather=temperature
    )
    text = _section_text(html)
    assert "not enough energy data in the baseline year 2017-01-01 to 2017-12-31" in text
    assert "<table" not in text


def test_weather_not_reaching_the_baseline_year_is_named(
    fleet: tuple[pd.DataFrame, ...],
) -> None:
    devices, cat, samples, temperature = fleet
    late = temperature[temperature.index >= pd.Timestamp("2017-10-01", tz=TZ)]
    html = build_report(
        devices, cat, samples, start=START, end=END, tz=TZ, figures=False, weather=late
    )
    text = _section_text(html)
    assert "the weather covers 92 of the 365 baseline days" in text
    assert "give weather from 2017-01-01 on" in text
    assert "<table" not in text
