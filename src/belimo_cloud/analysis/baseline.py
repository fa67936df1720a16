"""Baselines and savings: fit a daily energy signature on a baseline period, predict the
reporting period, and call the difference avoided energy (measurement and verification).

Days are local days; energy per day [kWh/d] and daily mean outdoor temperature [degC] are
paired by day. Savings = sum over reporting days of (predicted - actual). Its uncertainty is
the regression's own: with residual variance s2 (RMSE squared), m reporting days and g the sum
of their design rows, the variance of the summed error is s2 * (m + g' (X'X)^-1 g), inflated
by (1 + rho) / (1 - rho) for the lag-1 autocorrelation rho of the baseline residuals. This
is the exact form that ASHRAE Guideline 14's fractional savings uncertainty
(1.26 * t * CV * sqrt((n / n') * (1 + 2 / n) / m) / F) approximates; the approximation drops
the baseline's own estimation error of the mean and so understates daily savings
uncertainty by up to sqrt(2) (measured: it flagged zero-change series as savings). Guideline
14 asks that the 68 % uncertainty stay below 50 % of the savings; ``savings_ok`` says whether
it does. The normalised annual consumption (NAC) is a model's prediction for a typical year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from belimo_cloud.analysis.mv_daytypes import Baseline, DayTypes, as_baseline, fit_day_types
from belimo_cloud.analysis.mv_models import F64, FORMS, ChangePointModel
from belimo_cloud.errors import DataError

__all__ = [
    "GUIDELINE_14",
    "Baseline",
    "Savings",
    "Sufficiency",
    "check_sufficiency",
    "cumulative_savings",
    "fit_baseline",
    "meets_guideline_14",
    "normalised_annual_consumption",
    "pair_days",
    "savings",
    "typical_year",
]

#: ASHRAE Guideline 14 limits of a baseline model, as fractions, by data interval: the
#: calibration criteria (monthly 15 % / +-5 %, hourly 30 % / +-10 %); daily data is held to
#: the hourly limits, as is common practice since the guideline names no daily ones.
GUIDELINE_14 = {
    "monthly": {"cvrmse": 0.15, "nmbe": 0.05},
    "daily": {"cvrmse": 0.30, "nmbe": 0.10},
    "hourly": {"cvrmse": 0.30, "nmbe": 0.10},
}
#: Share of a period's days that must have both energy and temperature (CalTRACK: 90 %).
MIN_COVERAGE = 0.9
MIN_DAYS = 30


def meets_guideline_14(model: Baseline | ChangePointModel, interval: str = "daily") -> bool:
    """Whether CV(RMSE) and |NMBE| are within the Guideline 14 limits for ``interval``."""
    limits = GUIDELINE_14[interval]
    return bool(model.cvrmse <= limits["cvrmse"] and abs(model.nmbe) <= limits["nmbe"])


@dataclass(frozen=True)
class Sufficiency:
    """Whether a period has enough paired days: ``days`` in the period, ``present`` with both
    energy and temperature, ``coverage`` = present / days; ``ok`` and the ``warnings``."""

    days: int
    present: int
    coverage: float
    ok: bool
    warnings: tuple[str, ...] = field(default_factory=tuple)


def pair_days(temperature: pd.Series[float], energy: pd.Series[float]) -> pd.DataFrame:
    """Days with both a temperature [degC] and an energy [kWh/d], as columns ``temperature``
    and ``energy`` (index: local days)."""
    frame = pd.concat(
        {"temperature": temperature.astype("float64"), "energy": energy.astype("float64")},
        axis=1,
        join="inner",
    )
    return frame.dropna().sort_index()


def check_sufficiency(
    paired: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    what: str = "baseline",
    min_coverage: float = MIN_COVERAGE,
    min_days: int = MIN_DAYS,
) -> Sufficiency:
    """Data sufficiency of ``[start, end)`` (local midnights) for ``paired`` days."""
    days = len(pd.date_range(start, end, freq="D", inclusive="left"))
    inside = paired[(paired.index >= start) & (paired.index < end)]
    present = len(inside)
    coverage = present / days if days else 0.0
    warnings = []
    if days < 365 and what == "baseline":
        warnings.append(f"{what} is {days} days; a full year (365) covers every season")
    if coverage < min_coverage:
        warnings.append(
            f"{what} has data on {present} of {days} days ({coverage:.0%}); "
            f"at least {min_coverage:.0%} needed"
        )
    ok = coverage >= min_coverage and present >= min_days
    if present < min_days:
        warnings.append(f"{what} has {present} days with data; at least {min_days} needed")
    return Sufficiency(days, present, coverage, ok, tuple(warnings))


def fit_baseline(
    paired: pd.DataFrame,
    *,
    forms: tuple[str, ...] = FORMS,
    min_days: int = 10,
    day_types: DayTypes = "auto",
) -> Baseline:
    """The baseline of ``paired`` days (from :func:`pair_days`): change-point models for all
    days alike or for workdays and weekends (:func:`~belimo_cloud.analysis.mv_daytypes.
    fit_day_types`)."""
    return fit_day_types(paired, forms=forms, min_days=min_days, day_types=day_types)


@dataclass(frozen=True)
class Savings:
    """Avoided energy over a reporting period.

    ``predicted`` and ``actual`` [kWh] summed over the ``days`` that have both;
    ``avoided`` = predicted - actual [kWh]; ``uncertainty`` [kWh] the half-width at
    ``confidence``; ``percent`` = 100 * avoided / predicted; ``percent_uncertainty`` likewise;
    ``significant`` when the interval excludes zero; ``savings_ok`` when Guideline 14's
    68 %-uncertainty is below half the savings.
    """

    days: int
    predicted: float
    actual: float
    avoided: float
    uncertainty: float
    percent: float
    percent_uncertainty: float
    confidence: float
    significant: bool
    savings_ok: bool


def _variance(model: ChangePointModel, temperature: F64) -> float:
    """Variance [kWh2] of one model's summed prediction error over the days ``temperature``."""
    if len(temperature) == 0:
        return 0.0
    rho = model.autocorrelation if math.isfinite(model.autocorrelation) else 0.0
    rho = min(max(rho, 0.0), 0.95)
    g = model.design(temperature).sum(axis=0)
    inv = np.asarray(model.xtx_inv, dtype=np.float64)
    spread = float(g @ inv @ g) if inv.shape == (g.size, g.size) else 0.0
    variance = model.rmse**2 * (len(temperature) + max(spread, 0.0))
    return variance * (1.0 + rho) / (1.0 - rho)


def _standard_error(model: Baseline, paired: pd.DataFrame) -> float:
    """Standard error [kWh] of the summed prediction error over the ``paired`` days; the
    day types' models were fitted apart, so their variances add."""
    t = paired["temperature"].to_numpy(np.float64)
    days = pd.DatetimeIndex(paired.index)
    return math.sqrt(sum(_variance(part, t[mask]) for part, mask in model.parts(days)))


def savings(
    model: Baseline | ChangePointModel, paired: pd.DataFrame, *, confidence: float = 0.95
) -> Savings:
    """Predicted against actual energy over the reporting ``paired`` days."""
    model = as_baseline(model)
    if not 0.0 < confidence < 1.0:
        raise DataError("confidence must be between 0 and 1")
    if paired.empty:
        raise DataError("the reporting period has no days with both energy and temperature")
    days = pd.DatetimeIndex(paired.index)
    predicted = float(model.predict(paired["temperature"].to_numpy(np.float64), days).sum())
    actual = float(paired["energy"].sum())
    avoided = predicted - actual
    m = len(paired)
    se = _standard_error(model, paired)
    half = NormalDist().inv_cdf(0.5 + confidence / 2.0) * se
    half68 = NormalDist().inv_cdf(0.84) * se
    percent = 100.0 * avoided / predicted if predicted > 0 else math.nan
    percent_u = 100.0 * half / predicted if predicted > 0 else math.nan
    return Savings(
        days=m,
        predicted=predicted,
        actual=actual,
        avoided=avoided,
        uncertainty=half,
        percent=percent,
        percent_uncertainty=percent_u,
        confidence=confidence,
        significant=abs(avoided) > half,
        savings_ok=avoided > 0 and half68 < 0.5 * avoided,
    )


def cumulative_savings(model: Baseline | ChangePointModel, paired: pd.DataFrame) -> pd.DataFrame:
    """Per reporting day: ``predicted``, ``actual``, ``avoided`` [kWh/d] and ``cumulative``
    avoided energy [kWh] so far."""
    days = pd.DatetimeIndex(paired.index)
    predicted = as_baseline(model).predict(paired["temperature"].to_numpy(np.float64), days)
    out = pd.DataFrame(
        {"predicted": predicted, "actual": paired["energy"].to_numpy(np.float64)},
        index=paired.index,
    )
    out["avoided"] = out["predicted"] - out["actual"]
    out["cumulative"] = out["avoided"].cumsum()
    return out


def typical_year(daily: pd.Series[float]) -> F64:
    """A typical year's 365 daily mean temperatures [degC]: the mean of each calendar day
    over the years given (29 February left out), smoothed over a week so one odd year does
    not show; days never seen take the mean of their month's days."""
    if daily.empty:
        raise DataError("a typical year needs temperatures")
    index = pd.DatetimeIndex(daily.index)
    frame = pd.DataFrame({"t": daily.to_numpy(np.float64), "m": index.month, "d": index.day})
    frame = frame[~((frame["m"] == 2) & (frame["d"] == 29))]
    by_day = frame.groupby(["m", "d"])["t"].mean()
    calendar = pd.date_range("2001-01-01", "2001-12-31", freq="D")
    keys = list(zip(calendar.month, calendar.day, strict=True))
    values = by_day.reindex(pd.MultiIndex.from_tuples(keys)).to_numpy(np.float64)
    if np.isnan(values).any():
        month_means = frame.groupby("m")["t"].mean().reindex(range(1, 13))
        fill = month_means.reindex(calendar.month).to_numpy(np.float64)
        values = np.where(np.isnan(values), fill, values)
        values = np.where(np.isnan(values), float(np.nanmean(values)), values)
    # Circular weekly smoothing: the year wraps from December to January.
    padded = np.concatenate([values[-3:], values, values[:3]])
    return np.convolve(padded, np.ones(7) / 7.0, mode="valid")


def normalised_annual_consumption(model: Baseline | ChangePointModel, typical: F64) -> float:
    """Energy [kWh] ``model`` predicts for the typical year's daily temperatures (a split
    baseline weighs its day types as a week does)."""
    return float(as_baseline(model).predict(np.asarray(typical, dtype=np.float64)).sum())
