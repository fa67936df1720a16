"""Weather and calendar of the emulated site (Zurich area), deterministic from a seed.

Outdoor temperature = seasonal cycle + daily cycle + a per-day AR(1) weather anomaly
(linearly interpolated, so it is smooth). Per-day facts (anomaly, cloudiness, UTC offset,
working day) are drawn once for 2017..2100; per-sample values are computed on demand.
"""

from __future__ import annotations

import calendar
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields
from datetime import date

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EPOCH0 = 1_483_228_800  # 2017-01-01T00:00:00Z: the first sample of every device
DAY_S = 86_400
YEAR_DAYS = 365.2425
_FIRST_YEAR = 2017
_LAST_YEAR = 2100
_SOLAR_NOON_UTC_H = 11.43  # longitude 8.5 E
_GRID_S = 300
# Windows of conditions kept for reuse (a sync asks every device for the same windows).
_KEEP_WINDOWS = 8
_KEEP_SAMPLES = 600_000  # about 40 MB of conditions in all
_LARGEST_KEPT = 120_000  # samples; longer windows are computed each time


@dataclass(frozen=True)
class ClimateSamples:
    """Site conditions at some sample times.

    Attributes: ``outdoor`` [degC]; ``effective`` [degC], the outdoor temperature as the
    building feels it (daily cycle damped); ``occupied`` (bool), office hours on working days;
    ``local_hour`` [h]; ``workday`` (bool); ``solar`` [0..1], relative irradiance;
    ``u`` [0..1), a per-sample uniform number every device reuses with its own phase;
    ``heating_schedule`` (morning boost, day, setback) and ``cooling_schedule`` load factors;
    ``heating_supply`` [degC], the heating curve's supply temperature.
    """

    outdoor: FloatArray
    effective: FloatArray
    occupied: npt.NDArray[np.bool_]
    local_hour: FloatArray
    workday: npt.NDArray[np.bool_]
    solar: FloatArray
    u: FloatArray
    heating_schedule: FloatArray
    cooling_schedule: FloatArray
    heating_supply: FloatArray


def _dst_days(n_days: int) -> npt.NDArray[np.bool_]:
    """Days (UTC day index from 2017-01-01) on which Central European Summer Time applies."""
    dst = np.zeros(n_days, dtype=bool)
    origin = date(_FIRST_YEAR, 1, 1).toordinal()
    for year in range(_FIRST_YEAR, _LAST_YEAR + 1):
        start = max(week[calendar.SUNDAY] for week in calendar.monthcalendar(year, 3) if week[6])
        end = max(week[calendar.SUNDAY] for week in calendar.monthcalendar(year, 10) if week[6])
        first = date(year, 3, start).toordinal() - origin
        last = date(year, 10, end).toordinal() - origin
        dst[max(first, 0) : min(last, n_days)] = True
    return dst


def _ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> FloatArray:
    eps = rng.normal(0.0, sigma, n)
    out = np.empty(n)
    level = eps[0] / np.sqrt(1.0 - phi * phi)
    for i in range(n):
        level = phi * level + eps[i]
        out[i] = level
    return out


class Climate:
    """The site's weather and calendar; ``at(times)`` gives per-sample conditions."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 0x57EA])
        days = np.arange(
            np.datetime64(f"{_FIRST_YEAR}-01-01"), np.datetime64(f"{_LAST_YEAR + 1}-01-01")
        )
        self.n_days = len(days)
        self.anomaly = _ar1(rng, self.n_days + 1, phi=0.82, sigma=2.1)  # [K]
        self.cloud = np.clip(0.55 + _ar1(rng, self.n_days + 1, phi=0.55, sigma=0.32), 0.0, 1.0)
        self.utc_offset_s = np.where(_dst_days(self.n_days), 7200, 3600).astype(np.int64)
        month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
        weekday = (np.arange(self.n_days) + 6) % 7  # 2017-01-01 was a Sunday
        holiday = (
            ((month == 12) & (dom >= 24))
            | ((month == 1) & (dom <= 2))
            | ((month == 8) & (dom == 1))
            | ((month == 5) & (dom == 1))
        )
        self.workday = (weekday < 5) & ~holiday
        self._salt = np.uint64(int(rng.integers(1, 2**62)))
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[int, int], ClimateSamples] = OrderedDict()

    def on_grid(self, times: IntArray) -> ClimateSamples:
        """``at(times)``, reused when the same run of 5-minute grid times was asked before.

        Conditions depend on time only, so every device asking for the same window (a sync
        fetches the same windows for each device) shares one computation. Kept arrays are
        read-only.
        """
        n = len(times)
        if not 288 <= n <= _LARGEST_KEPT:
            return self.at(times)
        first = int(times[0])
        regular = first % _GRID_S == 0 and int(times[-1]) - first == (n - 1) * _GRID_S
        if not regular or not bool((np.diff(times) == _GRID_S).all()):
            return self.at(times)
        key = (first, n)
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        computed = self.at(times)
        for field in fields(computed):
            getattr(computed, field.name).flags.writeable = False
        with self._lock:
            self._kept[key] = computed
            while len(self._kept) > _KEEP_WINDOWS or (
                len(self._kept) > 1 and sum(k[1] for k in self._kept) > _KEEP_SAMPLES
            ):
                self._kept.popitem(last=False)
        return computed

    def seasonal(self, day_float: FloatArray) -> FloatArray:
        """Climatological mean temperature [degC] at fractional days since 2017-01-01."""
        phase = 2.0 * np.pi * (day_float - 17.0) / YEAR_DAYS
        return 9.6 - 9.4 * np.cos(phase)

    def at(self, times: IntArray) -> ClimateSamples:
        """Conditions at epoch-second sample times (>= 2017-01-01)."""
        rel = times - EPOCH0
        dayf = rel / DAY_S
        day = np.minimum(rel // DAY_S, self.n_days - 1)
        hour = (rel % DAY_S) / 3600.0
        summer = 0.5 + 0.5 * np.sin(2.0 * np.pi * (dayf - 80.0) / YEAR_DAYS)  # 1 at midsummer
        x = np.clip(dayf - 0.5, 0.0, self.n_days - 1.0)
        i = x.astype(np.int64)
        frac = x - i
        anomaly = self.anomaly[i] * (1.0 - frac) + self.anomaly[i + 1] * frac
        cloud = self.cloud[i] * (1.0 - frac) + self.cloud[i + 1] * frac
        daily_amp = (3.0 + 3.0 * summer) * (1.0 - 0.55 * cloud)
        diurnal = daily_amp * np.cos(2.0 * np.pi * (hour - 13.5) / 24.0)
        mean = self.seasonal(dayf) + anomaly
        outdoor = mean + diurnal

        daylen = 12.0 + 3.6 * (2.0 * summer - 1.0)
        sun = (hour - (_SOLAR_NOON_UTC_H - daylen / 2.0)) / daylen
        solar = np.where(
            (sun > 0.0) & (sun < 1.0),
            np.sin(np.pi * np.clip(sun, 0.0, 1.0)) * (1.0 - 0.75 * cloud) * (0.5 + 0.5 * summer),
            0.0,
        )

        local = rel + self.utc_offset_s[day]
        local_day = np.minimum(local // DAY_S, self.n_days - 1)
        local_hour = (local % DAY_S) / 3600.0
        workday = self.workday[local_day]
        occupied = workday & (local_hour >= 7.0) & (local_hour < 18.0)

        z = (rel // 300).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + self._salt
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        u = (z >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)
        effective = mean + 0.35 * diurnal
        heating_schedule = np.where(
            workday,
            np.where(
                (local_hour >= 5.0) & (local_hour < 7.0),
                1.25,
                np.where((local_hour >= 7.0) & (local_hour < 19.0), 1.0, 0.6),
            ),
            0.65,
        )
        return ClimateSamples(
            outdoor=outdoor,
            effective=effective,
            occupied=occupied,
            local_hour=local_hour,
            workday=workday,
            solar=solar,
            u=u,
            heating_schedule=heating_schedule,
            cooling_schedule=np.where(occupied, 1.0, 0.12),
            heating_supply=np.clip(20.0 + 1.3 * (20.0 - effective), 28.0, 60.0),
        )
