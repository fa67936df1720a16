"""Baselines and savings for every device of a fleet, and the fleet's total.

Input is the long daily energy of :func:`belimo_cloud.analysis.fleet.energy_by_device`
(``freq="D"``: ``device_id``, ``direction``, ``period``, ``consumption`` [kWh], ``coverage``)
and one daily temperature series. A day counts only when its energy is complete
(``coverage`` at least ``min_day_coverage``): a day that holds a gap's catch-up is no sample
of the signature. Directions with next to no energy in the baseline (a heating valve's
cooling counter) get no row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from belimo_cloud.analysis.baseline import (
    MIN_COVERAGE,
    check_sufficiency,
    fit_baseline,
    meets_guideline_14,
    normalised_annual_consumption,
    pair_days,
    savings,
    typical_year,
)
from belimo_cloud.analysis.mv_daytypes import DayTypes
from belimo_cloud.analysis.mv_models import FORMS
from belimo_cloud.errors import DataError

__all__ = ["FLEET", "ROW_COLUMNS", "Period", "day_energy", "fleet_savings"]

#: ``device_id`` of the fleet total rows.
FLEET = "fleet"
_MIN_KWH_PER_DAY = 0.05
ROW_COLUMNS = (
    "device_id",
    "direction",
    "form",
    "day_types",
    "heating_balance",
    "heating_slope",
    "cooling_balance",
    "cooling_slope",
    "intercept",
    "r2",
    "cvrmse",
    "nmbe",
    "guideline_14",
    "baseline_days",
    "baseline_coverage",
    "reporting_days",
    "reporting_coverage",
    "predicted_kwh",
    "actual_kwh",
    "savings_kwh",
    "savings_uncertainty_kwh",
    "savings_percent",
    "savings_percent_uncertainty",
    "significant",
    "nac_baseline_kwh",
    "nac_reporting_kwh",
    "normalised_savings_percent",
    "sufficient",
    "warnings",
)


@dataclass(frozen=True)
class Period:
    """A local period ``[start, end)``; both tz-aware local midnights."""

    start: pd.Timestamp
    end: pd.Timestamp


def day_energy(part: pd.DataFrame, tz: Any, *, min_day_coverage: float = 0.99) -> pd.Series[float]:
    """Energy [kWh/d] of one device and direction on its complete local days."""
    complete = part[part["coverage"].astype("float64") >= min_day_coverage]
    index = pd.DatetimeIndex(complete["period"])
    index = index.tz_convert(tz) if index.tz is not None else index.tz_localize(tz)
    return pd.Series(complete["consumption"].to_numpy(np.float64), index=index.normalize())


def _nan_row(device_id: str, direction: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(ROW_COLUMNS, math.nan)
    row.update(device_id=device_id, direction=direction, form=None, warnings="")
    row.update(guideline_14=False, significant=False, sufficient=False)
    return row


def _one(
    device_id: str,
    direction: str,
    energy: pd.Series[float],
    *,
    temperature: pd.Series[float],
    baseline: Period,
    reporting: Period | None,
    typical: Any,
    forms: tuple[str, ...],
    day_types: DayTypes,
    confidence: float,
    min_coverage: float,
) -> dict[str, Any] | None:
    paired = pair_days(temperature, energy)
    base = paired[(paired.index >= baseline.start) & (paired.index < baseline.end)]
    if base.empty or float(base["energy"].mean()) < _MIN_KWH_PER_DAY:
        return None
    row = _nan_row(device_id, direction)
    suff = check_sufficiency(paired, baseline.start, baseline.end, min_coverage=min_coverage)
    warnings = list(suff.warnings)
    row.update(baseline_days=suff.present, baseline_coverage=round(suff.coverage, 4))
    try:
        model = fit_baseline(base, forms=forms, day_types=day_types)
    except DataError as exc:
        row["warnings"] = "; ".join([*warnings, str(exc)])
        return row
    row.update(
        form=model.form,
        day_types=model.day_types,
        heating_balance=model.heating_balance,
        heating_slope=model.heating_slope,
        cooling_balance=model.cooling_balance,
        cooling_slope=model.cooling_slope,
        intercept=model.intercept,
        r2=model.r2,
        cvrmse=model.cvrmse,
        nmbe=model.nmbe,
        guideline_14=meets_guideline_14(model),
        nac_baseline_kwh=normalised_annual_consumption(model, typical),
    )
    sufficient = suff.ok
    if reporting is not None:
        rep = paired[(paired.index >= reporting.start) & (paired.index < reporting.end)]
        rsuff = check_sufficiency(
            paired, reporting.start, reporting.end, what="reporting", min_coverage=min_coverage
        )
        warnings.extend(rsuff.warnings)
        sufficient = sufficient and rsuff.ok
        row.update(reporting_days=rsuff.present, reporting_coverage=round(rsuff.coverage, 4))
        if not rep.empty:
            s = savings(model, rep, confidence=confidence)
            row.update(
                predicted_kwh=s.predicted,
                actual_kwh=s.actual,
                savings_kwh=s.avoided,
                savings_uncertainty_kwh=s.uncertainty,
                savings_percent=s.percent,
                savings_percent_uncertainty=s.percent_uncertainty,
                significant=s.significant,
            )
            try:
                after = fit_baseline(rep, forms=forms, day_types=day_types)
            except DataError:
                after = None
            if after is not None:
                nac_after = normalised_annual_consumption(after, typical)
                row["nac_reporting_kwh"] = nac_after
                if row["nac_baseline_kwh"] > 0:
                    row["normalised_savings_percent"] = 100.0 * (
                        1.0 - nac_after / row["nac_baseline_kwh"]
                    )
    if not meets_guideline_14(model):
        warnings.append(
            f"baseline fit CV(RMSE) {model.cvrmse:.0%} / NMBE {model.nmbe:.1%} "
            "outside Guideline 14 limits"
        )
    row["sufficient"] = sufficient
    row["warnings"] = "; ".join(warnings)
    return row


def _fleet_rows(rows: list[dict[str, Any]], confidence: float) -> Iterable[dict[str, Any]]:
    frame = pd.DataFrame(rows)
    if frame.empty or frame["predicted_kwh"].isna().all():
        return []
    out = []
    for direction, group in frame.groupby("direction", sort=True):
        part = group.dropna(subset=["predicted_kwh"])
        if part.empty:
            continue
        row = _nan_row(FLEET, str(direction))
        predicted = float(part["predicted_kwh"].sum())
        avoided = float(part["savings_kwh"].sum())
        # Devices share the weather, so their model errors move together (measured on the
        # demo: every valve's error had the same sign); the uncertainties add linearly, the
        # upper bound for fully correlated errors, not in quadrature.
        half = float(part["savings_uncertainty_kwh"].sum())
        nac_b = float(part["nac_baseline_kwh"].sum())
        nac_r = part["nac_reporting_kwh"]
        row.update(
            form=f"{len(part)} devices",
            baseline_days=int(part["baseline_days"].max()),
            reporting_days=int(part["reporting_days"].max()),
            predicted_kwh=predicted,
            actual_kwh=float(part["actual_kwh"].sum()),
            savings_kwh=avoided,
            savings_uncertainty_kwh=half,
            savings_percent=100.0 * avoided / predicted if predicted > 0 else math.nan,
            savings_percent_uncertainty=100.0 * half / predicted if predicted > 0 else math.nan,
            significant=abs(avoided) > half,
            nac_baseline_kwh=nac_b,
            sufficient=bool(part["sufficient"].all()),
            guideline_14=bool(part["guideline_14"].all()),
        )
        if nac_r.notna().all() and nac_b > 0:
            row["nac_reporting_kwh"] = float(nac_r.sum())
            row["normalised_savings_percent"] = 100.0 * (1.0 - float(nac_r.sum()) / nac_b)
        row["warnings"] = f"{confidence:.0%} interval; device uncertainties added linearly"
        out.append(row)
    return out


def fleet_savings(
    daily_energy: pd.DataFrame,
    temperature: pd.Series[float],
    *,
    baseline: Period,
    reporting: Period | None = None,
    forms: tuple[str, ...] = FORMS,
    day_types: DayTypes = "auto",
    confidence: float = 0.95,
    min_coverage: float = MIN_COVERAGE,
    min_day_coverage: float = 0.99,
) -> pd.DataFrame:
    """One row per device and direction (:data:`ROW_COLUMNS`), then the fleet total per
    direction (``device_id`` :data:`FLEET`).

    ``temperature``: daily means [degC] indexed by local midnights; ``baseline`` and
    ``reporting`` local periods. Energies are kWh, slopes kWh/(K*d), percentages of the
    predicted energy; ``normalised_savings_percent`` compares the two periods' models under
    the typical year made from ``temperature``. ``day_types`` chooses one model for all
    days, one per day type (workday, weekend) or, ``auto``, the better fit; ``form`` and the
    model columns are the workday model's when split.
    """
    need = {"device_id", "direction", "period", "consumption", "coverage"}
    if not need <= set(daily_energy.columns):
        raise DataError(f"daily energy needs columns {sorted(need)}")
    tz = pd.DatetimeIndex(temperature.index).tz
    typical = typical_year(temperature)
    rows: list[dict[str, Any]] = []
    for (device_id, direction), part in daily_energy.groupby(["device_id", "direction"], sort=True):
        energy = day_energy(part, tz, min_day_coverage=min_day_coverage)
        row = _one(
            str(device_id),
            str(direction),
            energy,
            temperature=temperature,
            baseline=baseline,
            reporting=reporting,
            typical=typical,
            forms=forms,
            day_types=day_types,
            confidence=confidence,
            min_coverage=min_coverage,
        )
        if row is not None:
            rows.append(row)
    rows.extend(_fleet_rows(rows, confidence))
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))
