"""Outdoor temperature per site from a CSV: the toolkit's own form and MeteoSwiss open data.

The toolkit's CSV form (what ``belimo emulator weather`` writes), comma separated::

    site,timestamp,temperature
    zurich,2018-01-01,1.7                  <- a date: that local day's mean [degC]
    zurich,2018-01-01T06:00:00Z,0.4        <- a time: the hour starting then [degC]

``site`` is optional (one unnamed site ``""``); ``timestamp`` is an ISO 8601 date or date-time
(a date-time without a zone is local time in ``tz``); ``temperature`` is in degC. Rows of one
file may be daily or hourly, not both for one site.

MeteoSwiss open data is accepted as downloaded: semicolon separated, a station column
(``station_abbr`` or ``stn``), a time column (``reference_timestamp`` as ``dd.mm.yyyy HH:MM``
in UTC, or IDAweb's ``time`` as ``yyyymmdd[HH]``) and a temperature parameter: ``tre200d0``
(daily mean) or ``tre200h0`` (hourly mean); ``-`` or an empty cell is missing. IDAweb hourly
stamps mark the end of the hour and are moved to its start.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from belimo_cloud.errors import DataError

__all__ = [
    "COLUMNS",
    "daily_temperature",
    "read_weather",
    "sites",
    "weather_csv",
]

#: Columns of a weather frame: ``site``, ``timestamp`` (UTC, the day's local midnight for
#: daily rows), ``temperature`` [degC], ``daily`` (True for a day's mean, False for an hour).
COLUMNS = ("site", "timestamp", "temperature", "daily")
_METEOSWISS_STATION = ("station_abbr", "stn")
_METEOSWISS_DAILY = "tre200d0"
_METEOSWISS_HOURLY = "tre200h0"
# An hourly day needs most of its hours for a fair mean (CalTRACK asks for at least half).
_MIN_HOURS = 12


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site": pd.Series(dtype="object"),
            "timestamp": pd.Series(dtype="datetime64[ns, UTC]"),
            "temperature": pd.Series(dtype="float64"),
            "daily": pd.Series(dtype="bool"),
        }
    )


def read_weather(
    source: str | Path | IO[str], *, tz: str | tzinfo = "Europe/Zurich"
) -> pd.DataFrame:
    """Temperatures from a CSV in the toolkit's form or a MeteoSwiss open-data file.

    Returns rows with :data:`COLUMNS`, sorted by site and time; DataError names the problem
    (missing file, unknown columns, unreadable times or numbers).
    """
    text = _text(source)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    frame = _meteoswiss(text, tz) if ";" in first else _own(text, tz)
    frame = frame.dropna(subset=["temperature"])
    frame = frame.sort_values(["site", "timestamp"], kind="stable")
    return frame.drop_duplicates(["site", "timestamp"], keep="last").reset_index(drop=True)


def _text(source: str | Path | IO[str]) -> str:
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"weather file {path} does not exist")
        try:
            return path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            return path.read_text(encoding="latin-1")
    return source.read()


def _own(text: str, tz: str | tzinfo) -> pd.DataFrame:
    raw = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = {"timestamp", "temperature"} - set(raw.columns)
    if missing:
        raise DataError(
            f"weather CSV needs the columns timestamp and temperature (and optionally site); "
            f"missing {', '.join(sorted(missing))}"
        )
    if raw.empty:
        return _empty()
    stamps = raw["timestamp"].fillna("").str.strip()
    daily = stamps.str.len() == 10
    times = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    try:
        if daily.any():
            days = pd.to_datetime(stamps[daily], format="%Y-%m-%d")
            times[daily] = pd.DatetimeIndex(days).tz_localize(tz).tz_convert("UTC")
        zoned = ~daily & stamps.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
        if zoned.any():
            times[zoned] = pd.to_datetime(stamps[zoned], format="ISO8601", utc=True)
        local = ~daily & ~zoned
        if local.any():
            # A wall time without zone is local; the repeated autumn hour counts as summer time.
            naive = pd.DatetimeIndex(pd.to_datetime(stamps[local], format="ISO8601"))
            times[local] = naive.tz_localize(
                tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
            ).tz_convert("UTC")
    except (ValueError, TypeError) as exc:
        raise DataError(f"weather CSV: unreadable timestamp ({exc})") from None
    site = raw["site"].fillna("").str.strip() if "site" in raw.columns else ""
    return pd.DataFrame(
        {
            "site": site,
            "timestamp": times,
            "temperature": _numbers(raw["temperature"]),
            "daily": daily.to_numpy(),
        }
    )


def _numbers(column: pd.Series[str]) -> pd.Series[float]:
    cleaned = column.fillna("").str.strip()
    blank = cleaned.isin(["", "-"])
    values = pd.to_numeric(cleaned.where(~blank, "nan"), errors="coerce")
    bad = values.isna() & ~blank
    if bad.any():
        raise DataError(f"weather CSV: {cleaned[bad].iloc[0]!r} is not a temperature")
    return values.astype("float64")


def _meteoswiss(text: str, tz: str | tzinfo) -> pd.DataFrame:
    raw = pd.read_csv(io.StringIO(text), sep=";", dtype=str, skipinitialspace=True)
    raw.columns = [str(c).strip() for c in raw.columns]
    station = next((c for c in _METEOSWISS_STATION if c in raw.columns), None)
    param = next((c for c in (_METEOSWISS_DAILY, _METEOSWISS_HOURLY) if c in raw.columns), None)
    clock = next((c for c in ("reference_timestamp", "time") if c in raw.columns), None)
    if station is None or param is None or clock is None:
        raise DataError(
            "MeteoSwiss CSV needs a station column (station_abbr or stn), a time column "
            "(reference_timestamp or time) and tre200d0 or tre200h0"
        )
    stamps = raw[clock].fillna("").str.strip()
    try:
        if clock == "reference_timestamp":
            times = pd.to_datetime(stamps, format="%d.%m.%Y %H:%M", utc=True)
        else:
            hourly_stamps = stamps.str.len() == 10
            fmt = "%Y%m%d%H" if hourly_stamps.all() else "%Y%m%d"
            times = pd.to_datetime(stamps, format=fmt, utc=True)
            if fmt == "%Y%m%d%H":
                times = times - pd.Timedelta(hours=1)
    except (ValueError, TypeError) as exc:
        raise DataError(f"MeteoSwiss CSV: unreadable {clock} ({exc})") from None
    daily = param == _METEOSWISS_DAILY
    if daily:
        # A daily value names a calendar day: stamp it at that day's local midnight.
        times = times.dt.tz_localize(None).dt.tz_localize(tz).dt.tz_convert("UTC")
    frame = pd.DataFrame(
        {
            "site": raw[station].fillna("").str.strip(),
            "timestamp": times,
            "temperature": _numbers(raw[param]),
            "daily": daily,
        }
    )
    return frame


def sites(weather: pd.DataFrame) -> list[str]:
    """The site names in a weather frame, in order."""
    return [str(s) for s in pd.unique(weather["site"])]


def daily_temperature(
    weather: pd.DataFrame,
    *,
    tz: str | tzinfo = "Europe/Zurich",
    site: str | None = None,
    min_hours: int = _MIN_HOURS,
) -> pd.Series[float]:
    """Mean outdoor temperature [degC] per local day of one site.

    The index holds local midnights (tz-aware, name ``day``). Hourly rows are averaged per
    local day (DST days have 23 or 25 hours); a day with fewer than ``min_hours`` hours is
    left out. ``site`` defaults to the only site; with several, name one.
    """
    names = sites(weather)
    if site is None:
        if len(names) > 1:
            raise DataError(f"the weather has several sites ({', '.join(names)}); name one")
        site = names[0] if names else ""
    elif site not in names:
        raise DataError(f"site {site!r} not in the weather ({', '.join(names) or 'none'})")
    part = weather[weather["site"] == site]
    out: list[pd.Series[float]] = []
    daily = part[part["daily"].astype(bool)]
    if not daily.empty:
        days = pd.DatetimeIndex(daily["timestamp"]).tz_convert(tz).normalize()
        out.append(pd.Series(daily["temperature"].to_numpy(np.float64), index=days))
    hourly = part[~part["daily"].astype(bool)]
    if not hourly.empty:
        local = pd.DatetimeIndex(hourly["timestamp"]).tz_convert(tz)
        values = pd.Series(hourly["temperature"].to_numpy(np.float64), index=local)
        keys = local.normalize()
        grouped = values.groupby(keys)
        means = grouped.mean()[grouped.count() >= min_hours]
        out.append(means)
    if not out:
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz=tz, name="day"))
    series = pd.concat(out).sort_index()
    series = series[~series.index.duplicated(keep="first")]
    series.index = pd.DatetimeIndex(series.index, name="day")
    series.name = "temperature"
    return series.astype("float64")


def weather_csv(
    rows: Iterable[tuple[str, str, float]] | pd.DataFrame,
) -> str:
    """The toolkit's CSV form for ``(site, timestamp, temperature)`` rows (timestamps as text)."""
    frame = (
        rows
        if isinstance(rows, pd.DataFrame)
        else pd.DataFrame(list(rows), columns=["site", "timestamp", "temperature"])
    )
    frame = frame[["site", "timestamp", "temperature"]]
    return str(frame.to_csv(index=False, float_format="%.2f", lineterminator="\n"))
