"""Weather-normalised year over year: the report's last year against its period, as frames.

The baseline is the 365 local days before the report's start; the reporting period is the
report's own ``[start, end)``. Per device and direction (heating and cooling never summed)
and for the fleet: actual kWh of each period, each period's change-point model normalised to
a typical year made from all the weather given (NAC), the change of the NAC in % and the fit
of the baseline model (R², CV(RMSE), NMBE, ASHRAE Guideline 14). The fitting is
:func:`belimo_cloud.analysis.mv_fleet.fleet_savings`, as `belimo baseline` runs it.

The change's uncertainty is the baseline model's prediction uncertainty over the reporting
days (95 %, autocorrelation-inflated; :func:`belimo_cloud.analysis.baseline.savings`) as a
share of the prediction: how far this year's consumption could differ from last year's
model by chance alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.baseline import MIN_COVERAGE, Baseline, fit_baseline, pair_days
from belimo_cloud.analysis.degree_days import DEFAULT_BASE, degree_days
from belimo_cloud.analysis.engine import Duration
from belimo_cloud.analysis.fleet import energy_by_device
from belimo_cloud.analysis.mv_fleet import FLEET, Period, day_energy, fleet_savings
from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.analysis.weather import daily_temperature
from belimo_cloud.errors import DataError

__all__ = [
    "BASELINE_DAYS",
    "COMPARISON_COLUMNS",
    "Signature",
    "WeatherComparison",
    "WeatherPlan",
    "as_daily_temperature",
    "baseline_start",
    "period_span",
    "plan_comparison",
    "weather_comparison",
    "weather_from_daily",
]

#: Length of the baseline year: the local days before the report's start.
BASELINE_DAYS = 365
#: Share of the baseline days that need weather (CalTRACK's 90 %).
_MIN_WEATHER = 0.9
#: Columns of :attr:`WeatherComparison.rows`.
COMPARISON_COLUMNS = (
    "device_id",
    "display_name",
    "direction",
    "last_kwh",
    "this_kwh",
    "nac_last_kwh",
    "nac_this_kwh",
    "change_percent",
    "change_uncertainty_percent",
    "r2",
    "cvrmse",
    "nmbe",
    "guideline_14",
    "sufficient",
    "warnings",
)
NO_WEATHER = (
    "No weather given, so no weather-normalised comparison: `belimo report --weather "
    "weather.csv` (or open-meteo:LAT,LON) adds last year against this year at typical weather."
)


@dataclass(frozen=True)
class Signature:
    """The energy signature of one device and direction: baseline and reporting days
    (``temperature`` [degC], ``energy`` [kWh/d]) and the baseline model."""

    device_id: str
    display_name: str
    direction: str
    change_percent: float
    baseline: pd.DataFrame
    reporting: pd.DataFrame
    model: Baseline


@dataclass(frozen=True)
class WeatherComparison:
    """The section's content; ``missing`` is one line saying what is missing (then the
    frames are empty)."""

    baseline: Period | None
    reporting: Period | None
    rows: pd.DataFrame
    degree_days: pd.DataFrame
    missing: str = ""
    signature: Signature | None = None


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame(columns=list(COMPARISON_COLUMNS))


def _nothing(
    missing: str, baseline: Period | None = None, reporting: Period | None = None
) -> WeatherComparison:
    return WeatherComparison(baseline, reporting, _empty_rows(), pd.DataFrame(), missing)


def as_daily_temperature(
    weather: pd.Series[float] | pd.DataFrame,
    *,
    tz: str | tzinfo,
    site: str | None = None,
) -> pd.Series[float]:
    """Daily mean temperatures [degC] indexed by local midnights in ``tz``.

    ``weather`` is a frame of :func:`~belimo_cloud.analysis.weather.read_weather` (daily or
    hourly rows) or a series indexed by day (a naive index is local dates in ``tz``).
    """
    if isinstance(weather, pd.DataFrame):
        return daily_temperature(weather, tz=tz, site=site)
    if not isinstance(weather.index, pd.DatetimeIndex):
        raise DataError("weather: a temperature series needs a date index")
    index = weather.index
    index = index.tz_localize(tz) if index.tz is None else index.tz_convert(tz)
    out = pd.Series(weather.to_numpy(np.float64), index=index.normalize(), name="temperature")
    out = out.dropna()
    # Hourly values in a series: one mean per local day.
    return out.groupby(level=0).mean().sort_index()


def _local_midnight(ts: pd.Timestamp, tz: str | tzinfo) -> pd.Timestamp:
    local = ts.tz_convert(tz)
    return pd.Timestamp(local.tz_localize(None).normalize()).tz_localize(tz)


def _day_after(ts: pd.Timestamp, tz: str | tzinfo) -> pd.Timestamp:
    """The local midnight that ends ``ts``'s local day."""
    day = _local_midnight(ts, tz).tz_localize(None)
    return pd.Timestamp(day + pd.Timedelta(days=1)).tz_localize(tz)


def baseline_start(start: pd.Timestamp, tz: str | tzinfo) -> pd.Timestamp:
    """The local midnight :data:`BASELINE_DAYS` local days before ``start``'s day."""
    day = _local_midnight(start, tz).tz_localize(None)
    return pd.Timestamp(day - pd.Timedelta(days=BASELINE_DAYS)).tz_localize(tz)


def _day(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m-%d}"


def period_span(period: Period) -> str:
    """``2017-01-01 to 2017-12-31``: the local days of ``period``."""
    last = period.end.tz_localize(None) - pd.Timedelta(days=1)
    return f"{_day(period.start)} to {last:%Y-%m-%d}"


def _degree_days(temperature: pd.Series[float], periods: dict[str, Period]) -> pd.DataFrame:
    rows = []
    for label, period in periods.items():
        part = temperature[(temperature.index >= period.start) & (temperature.index < period.end)]
        table = degree_days(part, by="day")
        rows.append(
            {
                "year": label,
                "period": period_span(period),
                "days": int(table["days"].sum()),
                "mean_temperature": float(part.mean()) if len(part) else math.nan,
                "hdd": float(table["hdd"].sum()),
                "hgt": float(table["hgt"].sum()),
                "cdd": float(table["cdd"].sum()),
            }
        )
    return pd.DataFrame(rows).assign(base=DEFAULT_BASE)


def _period_sums(daily: pd.DataFrame, period: Period, tz: str | tzinfo) -> pd.Series[float]:
    days = pd.DatetimeIndex(daily["period"]).tz_convert(tz)
    inside = daily[(days >= period.start) & (days < period.end)]
    return inside.groupby(["device_id", "direction"])["consumption"].sum()


def _rows(
    result: pd.DataFrame, daily: pd.DataFrame, periods: tuple[Period, Period], names: Any, tz: Any
) -> pd.DataFrame:
    last = _period_sums(daily, periods[0], tz)
    this = _period_sums(daily, periods[1], tz)
    devices = result[result["device_id"] != FLEET]
    keys = list(zip(result["device_id"], result["direction"], strict=True))

    def total(sums: pd.Series[float], device: str, direction: str) -> float:
        if device == FLEET:
            mine = devices.loc[devices["direction"] == direction, "device_id"]
            return float(sum(sums.get((d, direction), 0.0) for d in mine))
        return float(sums.get((device, direction), math.nan))

    out = pd.DataFrame(
        {
            "device_id": result["device_id"],
            "display_name": [names.get(d, d) if d != FLEET else "Fleet" for d, _ in keys],
            "direction": result["direction"],
            "last_kwh": [total(last, d, r) for d, r in keys],
            "this_kwh": [total(this, d, r) for d, r in keys],
            "nac_last_kwh": result["nac_baseline_kwh"],
            "nac_this_kwh": result["nac_reporting_kwh"],
            "change_percent": -result["normalised_savings_percent"].astype("float64"),
            "change_uncertainty_percent": result["savings_percent_uncertainty"],
            "r2": result["r2"],
            "cvrmse": result["cvrmse"],
            "nmbe": result["nmbe"],
            "guideline_14": result["guideline_14"].astype(bool),
            "sufficient": result["sufficient"].astype(bool),
            "warnings": result["warnings"].fillna("").astype(str),
        }
    )
    # Heating first, the fleet last in each direction, devices by name.
    order = out.assign(
        _d=out["direction"].map({"heating": 0, "cooling": 1}).fillna(2),
        _f=(out["device_id"] == FLEET).astype(int),
    )
    order = order.sort_values(["_d", "_f", "display_name"], kind="stable")
    return order[list(COMPARISON_COLUMNS)].reset_index(drop=True)


def _signature(
    rows: pd.DataFrame,
    daily: pd.DataFrame,
    temperature: pd.Series[float],
    periods: tuple[Period, Period],
    tz: Any,
) -> Signature | None:
    """The device (and direction) of the fleet's largest normalised change, with its days."""
    devices = rows[(rows["device_id"] != FLEET) & rows["change_percent"].notna()]
    if devices.empty:
        return None
    top = devices.iloc[int(np.argmax(devices["change_percent"].abs().to_numpy()))]
    part = daily[
        (daily["device_id"] == top["device_id"]) & (daily["direction"] == top["direction"])
    ]
    paired = pair_days(temperature, day_energy(part, tz))
    base, rep = periods
    before = paired[(paired.index >= base.start) & (paired.index < base.end)]
    after = paired[(paired.index >= rep.start) & (paired.index < rep.end)]
    try:
        model = fit_baseline(before)
    except DataError:
        return None
    return Signature(
        str(top["device_id"]),
        str(top["display_name"]),
        str(top["direction"]),
        float(top["change_percent"]),
        before,
        after,
        model,
    )


@dataclass(frozen=True)
class WeatherPlan:
    """The comparison's two years, decided before any energy is computed.

    ``missing`` is the comparison to show when there is nothing to compute (no weather, no
    start, too little weather); otherwise ``days`` spans the daily energy it needs.
    """

    temperature: pd.Series[float] | None
    baseline: Period | None
    reporting: Period | None
    missing: WeatherComparison | None = None

    @property
    def days(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The first and last local midnight of the daily energy needed (None: none)."""
        if self.missing is not None or self.baseline is None or self.reporting is None:
            return None
        return self.baseline.start, self.reporting.end


def plan_comparison(
    temperature: pd.Series[float] | None,
    *,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    tz: str | tzinfo,
    last: pd.Timestamp | None,
) -> WeatherPlan:
    """The baseline year and the reporting period, or what is missing for them.

    ``start``/``end`` are the report's bounds (UTC); without an end the period ends at
    ``last``, the last counter reading (at ``start`` without one).
    """
    if temperature is None:
        return WeatherPlan(None, None, None, _nothing(NO_WEATHER))
    if start is None:
        return WeatherPlan(
            temperature,
            None,
            None,
            _nothing(
                "No weather-normalised comparison: the report needs a start (--from) to place "
                "its baseline year before it."
            ),
        )
    if end is None:
        end = last if last is not None else start
    base = Period(baseline_start(start, tz), _local_midnight(start, tz))
    rep = Period(base.end, _day_after(end - pd.Timedelta(microseconds=1), tz))
    covered = int(((temperature.index >= base.start) & (temperature.index < base.end)).sum())
    if covered < _MIN_WEATHER * BASELINE_DAYS:
        return WeatherPlan(
            temperature,
            base,
            rep,
            _nothing(
                f"No weather-normalised comparison: the weather covers {covered} of the "
                f"{BASELINE_DAYS} baseline days ({period_span(base)}, the year before the "
                f"report); give weather from {_day(base.start)} on.",
                base,
                rep,
            ),
        )
    return WeatherPlan(temperature, base, rep)


def weather_from_daily(
    plan: WeatherPlan, daily: pd.DataFrame | None, devices: pd.DataFrame, tz: str | tzinfo
) -> WeatherComparison:
    """The comparison from daily energy per device (:func:`energy_by_device`, ``freq="D"``)
    over ``plan.days``."""
    if plan.missing is not None:
        return plan.missing
    temperature, base, rep = plan.temperature, plan.baseline, plan.reporting
    if temperature is None or base is None or rep is None:
        return _nothing(NO_WEATHER)
    if daily is None:
        daily = pd.DataFrame()
    result = (
        fleet_savings(daily, temperature, baseline=base, reporting=rep)
        if not daily.empty
        else pd.DataFrame()
    )
    fitted = result[result["device_id"] != FLEET] if not result.empty else result
    enough = fitted["nac_baseline_kwh"].notna() & (fitted["baseline_coverage"] >= MIN_COVERAGE)
    if fitted.empty or not enough.any():
        best = int(fitted["baseline_days"].fillna(0).max()) if len(fitted) else 0
        return _nothing(
            "No weather-normalised comparison: not enough energy data in the baseline year "
            f"{period_span(base)} (the {BASELINE_DAYS} days before the report): at most {best} "
            f"complete days with weather, {MIN_COVERAGE:.0%} of them needed; fetch or sync "
            "that year too.",
            base,
            rep,
        )
    names = devices.drop_duplicates("device_id").set_index("device_id")["display_name"].to_dict()
    rows = _rows(result, daily, (base, rep), names, tz)
    return WeatherComparison(
        baseline=base,
        reporting=rep,
        rows=rows,
        degree_days=_degree_days(temperature, {"last year": base, "this year": rep}),
        signature=_signature(rows, daily, temperature, (base, rep), tz),
    )


def weather_comparison(
    counters: pd.DataFrame,
    devices: pd.DataFrame,
    temperature: pd.Series[float] | None,
    *,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    tz: str | tzinfo,
    resolution: Duration = None,
    policy: CounterPolicy | None = None,
) -> WeatherComparison:
    """Last year against the report's period, weather-normalised (see the module text).

    ``counters`` are named counter samples (:func:`~belimo_cloud.analysis.fleet.named_samples`)
    reaching back to :func:`baseline_start`; ``start``/``end`` the report's bounds (UTC);
    ``temperature`` daily means indexed by local midnights, or None.
    """
    last = pd.DatetimeIndex(counters["timestamp"]).max() if len(counters) else None
    plan = plan_comparison(temperature, start=start, end=end, tz=tz, last=last)
    days = plan.days
    daily = None
    if days is not None:
        daily = energy_by_device(
            counters,
            freq="D",
            tz=tz,
            start=days[0],
            end=days[1],
            resolution=resolution,
            policy=policy,
        )
    return weather_from_daily(plan, daily, devices, tz)
