"""Weather from the toolkit's CSV form and from MeteoSwiss open-data files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis.weather import daily_temperature, read_weather, weather_csv
from belimo_cloud.errors import DataError


def test_daily_rows_are_local_days(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("site,timestamp,temperature\nzrh,2018-01-01,1.5\nzrh,2018-01-02,-2.25\n")
    weather = read_weather(path, tz="Europe/Zurich")
    assert list(weather["daily"]) == [True, True]
    # Local midnight of 1 January in Zurich is 23:00 UTC the day before.
    assert weather["timestamp"].iloc[0] == pd.Timestamp("2017-12-31T23:00Z")
    daily = daily_temperature(weather, tz="Europe/Zurich")
    assert list(daily.index.strftime("%Y-%m-%d")) == ["2018-01-01", "2018-01-02"]
    assert list(daily) == [1.5, -2.25]


def test_hourly_rows_average_per_local_day_across_dst() -> None:
    # 2018-03-25 is the spring-forward day in Zurich: 23 local hours.
    hours = pd.date_range("2018-03-24T23:00Z", "2018-03-25T22:00Z", freq="h")
    assert len(hours) == 24
    text = "timestamp,temperature\n" + "".join(
        f"{h.isoformat().replace('+00:00', 'Z')},{i}\n" for i, h in enumerate(hours)
    )
    weather = read_weather(io.StringIO(text), tz="Europe/Zurich")
    daily = daily_temperature(weather, tz="Europe/Zurich")
    day = pd.Timestamp("2018-03-25", tz="Europe/Zurich")
    # The 23 hours of 25 March are the first 23 rows; the last row is 26 March 00:00 local.
    assert daily[day] == pytest.approx(np.mean(range(23)))


def test_too_few_hours_drop_the_day() -> None:
    text = "timestamp,temperature\n2018-06-01T10:00:00+02:00,20\n2018-06-01T11:00:00+02:00,22\n"
    weather = read_weather(io.StringIO(text))
    assert daily_temperature(weather).empty
    assert daily_temperature(weather, min_hours=2).iloc[0] == pytest.approx(21.0)


def test_meteoswiss_open_data_daily() -> None:
    text = (
        "station_abbr;reference_timestamp;tre200d0;tre200dn;rre150d0\n"
        "SMA;01.01.2018 00:00;3.4;1.0;0.2\n"
        "SMA;02.01.2018 00:00;-;0.5;0.0\n"
        "SMA;03.01.2018 00:00;5.1;2.0;0.0\n"
    )
    weather = read_weather(io.StringIO(text))
    daily = daily_temperature(weather, site="SMA")
    assert list(daily.index.strftime("%Y-%m-%d")) == ["2018-01-01", "2018-01-03"]
    assert list(daily) == [3.4, 5.1]


def test_idaweb_hourly_stamps_are_hour_ends() -> None:
    rows = "".join(f"SMA;20180101{h:02d};{h}\n" for h in range(1, 24))
    text = "stn;time;tre200h0\n" + rows + "SMA;2018010200;24\n"
    weather = read_weather(io.StringIO(text), tz="UTC")
    assert weather["timestamp"].iloc[0] == pd.Timestamp("2018-01-01T00:00Z")
    daily = daily_temperature(weather, tz="UTC")
    assert daily.iloc[0] == pytest.approx(np.mean(range(1, 25)))


def test_several_sites_need_a_name() -> None:
    text = "site,timestamp,temperature\na,2018-01-01,1\nb,2018-01-01,2\n"
    weather = read_weather(io.StringIO(text))
    with pytest.raises(DataError, match="several sites"):
        daily_temperature(weather)
    assert daily_temperature(weather, site="b").iloc[0] == 2.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,temp\n2018-01-01,1\n", "timestamp and temperature"),
        ("timestamp,temperature\n2018-01-01,warm\n", "not a temperature"),
        ("timestamp,temperature\nyesterday-ish,1\n", "unreadable timestamp"),
        ("a;b\n1;2\n", "MeteoSwiss CSV needs"),
    ],
)
def test_bad_files_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_weather(io.StringIO(text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_weather(tmp_path / "nope.csv")


def test_written_csv_reads_back() -> None:
    text = weather_csv([("demo", "2018-01-01", 1.234), ("demo", "2018-01-02", -0.5)])
    weather = read_weather(io.StringIO(text))
    assert list(daily_temperature(weather)) == [1.23, -0.5]


def test_wall_times_without_zone_are_local() -> None:
    text = "timestamp,temperature\n2018-06-01T12:00,3\n2018-01-15T12:00:00,1\n2018-06-01T12:00Z,5\n"
    weather = read_weather(
        io.StringIO(text),
        tz="Europe/Zurich",
    )
    stamps = list(weather["timestamp"])
    assert stamps == [
        pd.Timestamp("2018-01-15T11:00Z"),
        pd.Timestamp("2018-06-01T10:00Z"),
        pd.Timestamp("2018-06-01T12:00Z"),
    ]
