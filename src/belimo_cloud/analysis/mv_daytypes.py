"""A baseline of one or two change-point models: all days alike, or workdays and weekends.

Buildings run one schedule on workdays and another at weekends, so their daily energy lies
on two signatures (on the demo's cooling valves a single model left CV(RMSE) near 70 %).
:func:`fit_day_types` fits one model on all days and, where both day types have enough
days, one model per day type; the split is kept when its residual error (with the degrees of
freedom of both models) is lower. Saturday and Sunday of the local calendar are weekend
days; public holidays are not known and count as workdays.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from belimo_cloud.analysis.mv_models import F64, FORMS, ChangePointModel, fit_change_point
from belimo_cloud.errors import DataError

__all__ = [
    "ALL",
    "WEEKEND",
    "WEEKEND_SHARE",
    "WORKDAY",
    "Baseline",
    "as_baseline",
    "day_type",
    "fit_day_types",
]

ALL, WORKDAY, WEEKEND = "all", "workday", "weekend"
#: Share of weekend days in a week: the weight of the weekend model when no dates are given.
WEEKEND_SHARE = 2.0 / 7.0
DayTypes = Literal["auto", "single", "split"]
Mask = npt.NDArray[np.bool_]


def day_type(days: pd.DatetimeIndex) -> Mask:
    """True for weekend days (Saturday, Sunday) of ``days`` (local midnights)."""
    return np.asarray(days.day_of_week >= 5, dtype=np.bool_)


@dataclass(frozen=True)
class Baseline:
    """Change-point models by day type, and the fit statistics of them together.

    ``segments``: ``(("all", model),)`` or ``(("workday", m1), ("weekend", m2))``;
    ``n`` days, ``p`` parameters of all models; ``r2``, ``rmse`` [kWh/d], ``cvrmse``,
    ``nmbe`` as in :mod:`belimo_cloud.analysis.mv_models`. The model attributes
    (``form``, balance points, slopes, ``intercept``) are the main model's: workdays', or
    the only one's.
    """

    segments: tuple[tuple[str, ChangePointModel], ...]
    n: int
    p: int
    r2: float
    rmse: float
    cvrmse: float
    nmbe: float
    mean: float

    @property
    def main(self) -> ChangePointModel:
        """The workday model, or the only one."""
        return self.segments[0][1]

    @property
    def day_types(self) -> str:
        """``all`` or ``workday+weekend``."""
        return "+".join(name for name, _ in self.segments)

    @property
    def form(self) -> str:
        return self.main.form

    @property
    def intercept(self) -> float:
        return self.main.intercept

    @property
    def heating_slope(self) -> float:
        return self.main.heating_slope

    @property
    def heating_balance(self) -> float:
        return self.main.heating_balance

    @property
    def cooling_slope(self) -> float:
        return self.main.cooling_slope

    @property
    def cooling_balance(self) -> float:
        return self.main.cooling_balance

    def parts(self, days: pd.DatetimeIndex) -> Iterator[tuple[ChangePointModel, Mask]]:
        """Each model with the mask of ``days`` it predicts."""
        if len(self.segments) == 1:
            yield self.main, np.ones(len(days), dtype=bool)
            return
        weekend = day_type(days)
        for name, model in self.segments:
            yield model, weekend if name == WEEKEND else ~weekend

    def predict(self, temperature: F64, days: pd.DatetimeIndex | None = None) -> F64:
        """Energy per day [kWh/d] at daily mean temperatures [degC] on ``days``; without
        days, a split baseline gives the week's average (5 workdays, 2 weekend days)."""
        t = np.asarray(temperature, dtype=np.float64)
        if len(self.segments) == 1:
            return self.main.predict(t)
        if days is None:
            by = dict(self.segments)
            return (1.0 - WEEKEND_SHARE) * by[WORKDAY].predict(t) + WEEKEND_SHARE * by[
                WEEKEND
            ].predict(t)
        out = np.empty(len(t))
        for model, mask in self.parts(days):
            out[mask] = model.predict(t[mask])
        return out


def as_baseline(model: ChangePointModel | Baseline) -> Baseline:
    """A single model as a one-segment :class:`Baseline` (a Baseline as it is)."""
    if isinstance(model, Baseline):
        return model
    return Baseline(
        ((ALL, model),),
        model.n,
        model.p,
        model.r2,
        model.rmse,
        model.cvrmse,
        model.nmbe,
        model.mean,
    )


def _combine(
    segments: tuple[tuple[str, ChangePointModel], ...], t: F64, y: F64, days: pd.DatetimeIndex
) -> Baseline:
    draft = Baseline(segments, len(y), 0, math.nan, math.nan, math.nan, math.nan, math.nan)
    resid = y - draft.predict(t, days)
    p = sum(model.p for _, model in segments)
    n = len(y)
    sse = float((resid * resid).sum())
    mean = float(y.mean())
    sst = float(((y - mean) ** 2).sum())
    dof = max(n - p, 1)
    rmse = math.sqrt(sse / dof)
    return Baseline(
        segments=segments,
        n=n,
        p=p,
        r2=1.0 - sse / sst if sst > 0 else 1.0,
        rmse=rmse,
        cvrmse=rmse / mean if mean else math.inf,
        nmbe=float(resid.sum()) / (dof * mean) if mean else math.inf,
        mean=mean,
    )


def fit_day_types(
    paired: pd.DataFrame,
    *,
    forms: tuple[str, ...] = FORMS,
    min_days: int = 10,
    day_types: DayTypes = "auto",
) -> Baseline:
    """A :class:`Baseline` of ``paired`` days (``temperature``, ``energy``; local-day index).

    ``day_types``: ``single`` one model for all days; ``split`` one per day type (DataError
    if a type has too few days); ``auto`` the split where it fits better.
    """
    days = pd.DatetimeIndex(paired.index)
    t = paired["temperature"].to_numpy(np.float64)
    y = paired["energy"].to_numpy(np.float64)
    single = _combine(((ALL, fit_change_point(t, y, forms=forms, min_days=min_days)),), t, y, days)
    if day_types == "single":
        return single
    weekend = day_type(days)
    try:
        split = _combine(
            (
                (
                    WORKDAY,
                    fit_change_point(t[~weekend], y[~weekend], forms=forms, min_days=min_days),
                ),
                (WEEKEND, fit_change_point(t[weekend], y[weekend], forms=forms, min_days=min_days)),
            ),
            t,
            y,
            days,
        )
    except DataError:
        if day_types == "split":
            raise
        return single
    if day_types == "split" or split.rmse < single.rmse:
        return split
    return single
