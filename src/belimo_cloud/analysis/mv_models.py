"""Daily energy signature: change-point models of energy against outdoor temperature.

Four forms, as measurement-and-verification practice fits them (CalTRACK daily methods):

- ``intercept``: E = a (no weather dependence);
- ``heating``: E = a + bh * max(0, Th - T) (balance point Th fitted);
- ``cooling``: E = a + bc * max(0, T - Tc) (balance point Tc fitted);
- ``heating_cooling``: both terms, Th <= Tc.

E is energy per day [kWh/d], T the day's mean outdoor temperature [degC]. Balance points are
found by a grid search (every candidate solved in closed form, all candidates at once with
numpy), then refined on a finer grid around the best. A weather term is kept only if its
slope is positive and significant (p < 0.1) and at least ``min_days`` days lie beyond its
balance point; among qualifying forms the highest adjusted R2 wins.

Fit statistics follow ASHRAE Guideline 14: with n days and p parameters (balance points
count), RMSE = sqrt(SSE / (n - p)), CV(RMSE) = RMSE / mean(E), NMBE = sum(E - fit) /
((n - p) * mean(E)). p-values use the normal approximation of Student's t (n is large).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from belimo_cloud.errors import DataError

__all__ = ["FORMS", "ChangePointModel", "fit_change_point", "predict"]

F64 = npt.NDArray[np.float64]
#: Model forms, simplest first.
FORMS = ("intercept", "heating", "cooling", "heating_cooling")
_P_MAX = 0.1
_COARSE = 0.5  # [K] grid step of the search
_FINE = 0.05  # [K] grid step of the refinement


@dataclass(frozen=True)
class ChangePointModel:
    """A fitted daily energy signature and its fit statistics.

    ``intercept`` [kWh/d]; ``heating_slope``/``cooling_slope`` [kWh/(K*d)] and
    ``heating_balance``/``cooling_balance`` [degC] (NaN when the form has no such term);
    ``n`` days, ``p`` parameters; ``r2``, ``adj_r2``; ``rmse`` [kWh/d]; ``cvrmse`` and
    ``nmbe`` as fractions; ``autocorrelation``: lag-1 correlation of the residuals;
    ``mean`` [kWh/d] of the fitted energy; ``t_min``/``t_max`` [degC] the fitted range.
    """

    form: str
    intercept: float
    heating_slope: float
    heating_balance: float
    cooling_slope: float
    cooling_balance: float
    n: int
    p: int
    r2: float
    adj_r2: float
    rmse: float
    cvrmse: float
    nmbe: float
    autocorrelation: float
    mean: float
    t_min: float
    t_max: float
    #: (X'X)^-1 of the linear terms at the fitted balance points: prediction variances.
    xtx_inv: tuple[tuple[float, ...], ...] = field(default=(), repr=False, compare=False)

    def design(self, temperature: F64) -> F64:
        """The regression's columns at ``temperature``: 1, then each degree term."""
        return _columns(self.form, self.heating_balance, self.cooling_balance, temperature)

    def predict(self, temperature: F64) -> F64:
        """Energy per day [kWh/d] at daily mean temperatures [degC]."""
        return predict(self, temperature)


def predict(model: ChangePointModel, temperature: F64) -> F64:
    """Energy per day [kWh/d] of ``model`` at daily mean temperatures [degC]."""
    t = np.asarray(temperature, dtype=np.float64)
    out = np.full(t.shape, model.intercept)
    if model.form in ("heating", "heating_cooling"):
        out += model.heating_slope * np.maximum(0.0, model.heating_balance - t)
    if model.form in ("cooling", "heating_cooling"):
        out += model.cooling_slope * np.maximum(0.0, t - model.cooling_balance)
    return out


@dataclass(frozen=True)
class _Candidate:
    form: str
    coef: F64  # intercept, then slopes
    heating_balance: float
    cooling_balance: float
    sse: float
    p: int


def _grid(t: F64, min_days: int, step: float) -> F64:
    """Balance-point candidates that leave ``min_days`` days on either side."""
    ordered = np.sort(t)
    if len(ordered) < 2 * min_days:
        return np.empty(0)
    low, high = ordered[min_days - 1], ordered[-min_days]
    if high <= low:
        return np.empty(0)
    return np.arange(math.ceil(low / step) * step, high + 1e-9, step)


def _one_sided(t: F64, y: F64, balances: F64, *, heating: bool) -> tuple[F64, F64, F64]:
    """Intercept, slope and SSE of E = a + b * x(balance) for every candidate balance."""
    x = (
        np.maximum(0.0, balances[:, None] - t[None, :])
        if heating
        else np.maximum(0.0, t[None, :] - balances[:, None])
    )
    n = len(y)
    sx, sxx, sxy = x.sum(axis=1), (x * x).sum(axis=1), (x * y).sum(axis=1)
    sy, syy = float(y.sum()), float((y * y).sum())
    det = n * sxx - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        b = (n * sxy - sx * sy) / det
        a = (sy - b * sx) / n
        sse = syy - a * sy - b * sxy
    sse = np.where(det > 1e-9, sse, np.inf)
    return a, b, sse


def _best_one_sided(t: F64, y: F64, grid: F64, *, heating: bool) -> _Candidate | None:
    if grid.size == 0:
        return None
    a, b, sse = _one_sided(t, y, grid, heating=heating)
    sse = np.where(b > 0, sse, np.inf)
    k = int(np.argmin(sse))
    if not np.isfinite(sse[k]):
        return None
    fine = np.arange(grid[k] - _COARSE, grid[k] + _COARSE + 1e-9, _FINE)
    fine = fine[(fine >= grid[0]) & (fine <= grid[-1])]
    a, b, sse = _one_sided(t, y, fine, heating=heating)
    sse = np.where(b > 0, sse, np.inf)
    j = int(np.argmin(sse))
    balance = float(fine[j])
    return _Candidate(
        form="heating" if heating else "cooling",
        coef=np.array([a[j], b[j]]),
        heating_balance=balance if heating else math.nan,
        cooling_balance=math.nan if heating else balance,
        sse=float(sse[j]),
        p=3,
    )


def _two_sided_sse(t: F64, y: F64, hb: F64, cb: F64) -> tuple[F64, F64]:
    """Coefficients (pairs, 3) and SSE (pairs,) of both terms for every (hb, cb) pair."""
    h = np.maximum(0.0, hb[:, None] - t[None, :])
    c = np.maximum(0.0, t[None, :] - cb[:, None])
    n = float(len(y))
    sh, sc = h.sum(axis=1), c.sum(axis=1)
    shh, scc = (h * h).sum(axis=1), (c * c).sum(axis=1)
    # einsum, not @: BLAS threads on a busy machine made these small products 10x slower.
    shc = np.einsum("ik,jk->ij", h, c)
    shy, scy, sy = (h * y).sum(axis=1), (c * y).sum(axis=1), float(y.sum())
    gi, gj = np.meshgrid(np.arange(len(hb)), np.arange(len(cb)), indexing="ij")
    keep = (hb[gi] < cb[gj]).ravel()
    i, j = gi.ravel()[keep], gj.ravel()[keep]
    xtx = np.empty((len(i), 3, 3))
    xtx[:, 0, 0] = n
    xtx[:, 0, 1] = xtx[:, 1, 0] = sh[i]
    xtx[:, 0, 2] = xtx[:, 2, 0] = sc[j]
    xtx[:, 1, 1] = shh[i]
    xtx[:, 2, 2] = scc[j]
    xtx[:, 1, 2] = xtx[:, 2, 1] = shc[i, j]
    xty = np.stack([np.full(len(i), sy), shy[i], scy[j]], axis=1)
    dets = np.linalg.det(xtx)
    ok = np.abs(dets) > 1e-6 * np.abs(xtx[:, 1, 1] * xtx[:, 2, 2] * n + 1.0)
    coef = np.full((len(i), 3), np.nan)
    if ok.any():
        coef[ok] = np.linalg.solve(xtx[ok], xty[ok][:, :, None])[:, :, 0]
    sse = float((y * y).sum()) - np.einsum("kj,kj->k", coef, xty)
    sse = np.where(ok & (coef[:, 1] > 0) & (coef[:, 2] > 0), sse, np.inf)
    out_hb = hb[i]
    out_cb = cb[j]
    return np.column_stack([coef, out_hb, out_cb]), sse


def _best_two_sided(t: F64, y: F64, grid: F64) -> _Candidate | None:
    if grid.size < 2:
        return None
    rows, sse = _two_sided_sse(t, y, grid, grid)
    if rows.size == 0 or not np.isfinite(sse).any():
        return None
    k = int(np.argmin(sse))
    hb0, cb0 = rows[k, 3], rows[k, 4]
    fh = np.arange(hb0 - _COARSE, hb0 + _COARSE + 1e-9, _FINE)
    fc = np.arange(cb0 - _COARSE, cb0 + _COARSE + 1e-9, _FINE)
    fh = fh[(fh >= grid[0]) & (fh <= grid[-1])]
    fc = fc[(fc >= grid[0]) & (fc <= grid[-1])]
    rows2, sse2 = _two_sided_sse(t, y, fh, fc)
    if rows2.size and np.isfinite(sse2).any() and float(np.min(sse2)) <= float(sse[k]):
        rows, sse, k = rows2, sse2, int(np.argmin(sse2))
    return _Candidate(
        form="heating_cooling",
        coef=rows[k, :3].copy(),
        heating_balance=float(rows[k, 3]),
        cooling_balance=float(rows[k, 4]),
        sse=float(sse[k]),
        p=5,
    )


def _columns(form: str, heating_balance: float, cooling_balance: float, t: F64) -> F64:
    t = np.asarray(t, dtype=np.float64)
    cols = [np.ones_like(t)]
    if form in ("heating", "heating_cooling"):
        cols.append(np.maximum(0.0, heating_balance - t))
    if form in ("cooling", "heating_cooling"):
        cols.append(np.maximum(0.0, t - cooling_balance))
    return np.column_stack(cols)


def _design(c: _Candidate, t: F64) -> F64:
    return _columns(c.form, c.heating_balance, c.cooling_balance, t)


def _significant(c: _Candidate, t: F64, n: int) -> bool:
    """Every slope positive with p < 0.1 (normal approximation of t)."""
    x = _design(c, t)
    dof = n - c.p
    if dof <= 0:
        return False
    sigma2 = c.sse / dof
    try:
        cov = sigma2 * np.linalg.inv(np.einsum("ki,kj->ij", x, x))
    except np.linalg.LinAlgError:
        return False
    for k in range(1, len(c.coef)):
        se = math.sqrt(max(cov[k, k], 0.0))
        if c.coef[k] <= 0:
            return False
        if se > 0 and math.erfc(c.coef[k] / se / math.sqrt(2.0)) >= _P_MAX:
            return False
    return True


def fit_change_point(
    temperature: F64,
    energy: F64,
    *,
    forms: tuple[str, ...] = FORMS,
    min_days: int = 10,
) -> ChangePointModel:
    """The best change-point model of daily ``energy`` [kWh/d] on ``temperature`` [degC].

    NaN pairs are dropped. ``forms`` limits the candidates (e.g. ``("heating",)``);
    ``min_days`` days must lie beyond a fitted balance point. DataError if fewer than
    ``2 * min_days`` days remain.
    """
    t_all = np.asarray(temperature, dtype=np.float64)
    y_all = np.asarray(energy, dtype=np.float64)
    if t_all.shape != y_all.shape:
        raise DataError("temperature and energy must have one value per day each")
    ok = np.isfinite(t_all) & np.isfinite(y_all)
    t, y = t_all[ok], y_all[ok]
    n = len(y)
    if n < max(2 * min_days, 3):
        raise DataError(f"a baseline needs at least {max(2 * min_days, 3)} days; got {n}")
    unknown = set(forms) - set(FORMS)
    if unknown:
        raise DataError(f"unknown model form {sorted(unknown)[0]!r}; use {', '.join(FORMS)}")
    mean = float(y.mean())
    sst = float(((y - mean) ** 2).sum())
    candidates = [_Candidate("intercept", np.array([mean]), math.nan, math.nan, sst, 1)]
    grid = _grid(t, min_days, _COARSE)
    for form in forms:
        found = None
        if form in ("heating", "cooling"):
            found = _best_one_sided(t, y, grid, heating=form == "heating")
        elif form == "heating_cooling":
            found = _best_two_sided(t, y, grid)
        if found is not None and _significant(found, t, n):
            candidates.append(found)
    if "intercept" not in forms and len(candidates) > 1:
        candidates = candidates[1:]

    def adj_r2(c: _Candidate) -> float:
        if sst <= 0 or n - c.p <= 0:
            return 0.0
        return 1.0 - (c.sse / (n - c.p)) / (sst / (n - 1))

    best = max(candidates, key=adj_r2)
    return _summarise(best, t, y, adj_r2(best), sst)


def _summarise(c: _Candidate, t: F64, y: F64, adj: float, sst: float) -> ChangePointModel:
    n = len(y)
    slopes = list(c.coef[1:])
    heating_slope = slopes.pop(0) if c.form in ("heating", "heating_cooling") else math.nan
    cooling_slope = slopes.pop(0) if c.form in ("cooling", "heating_cooling") else math.nan
    model = ChangePointModel(
        form=c.form,
        intercept=float(c.coef[0]),
        heating_slope=float(heating_slope),
        heating_balance=c.heating_balance,
        cooling_slope=float(cooling_slope),
        cooling_balance=c.cooling_balance,
        n=n,
        p=c.p,
        r2=math.nan,
        adj_r2=adj,
        rmse=math.nan,
        cvrmse=math.nan,
        nmbe=math.nan,
        autocorrelation=math.nan,
        mean=float(y.mean()),
        t_min=float(t.min()),
        t_max=float(t.max()),
    )
    resid = y - predict(model, t)
    sse = float((resid * resid).sum())
    dof = max(n - c.p, 1)
    rmse = math.sqrt(sse / dof)
    mean = float(y.mean())
    x = _design(c, t)
    try:
        inv = np.linalg.inv(np.einsum("ki,kj->ij", x, x))
    except np.linalg.LinAlgError:
        inv = np.full((x.shape[1], x.shape[1]), np.nan)
    rho = 0.0
    if n > 2 and float(resid.std()) > 0:
        rho = float(np.corrcoef(resid[:-1], resid[1:])[0, 1])
    return ChangePointModel(
        **{
            **model.__dict__,
            "r2": 1.0 - sse / sst if sst > 0 else 1.0,
            "rmse": rmse,
            "cvrmse": rmse / mean if mean else math.inf,
            "nmbe": float(resid.sum()) / (dof * mean) if mean else math.inf,
            "autocorrelation": rho,
            "xtx_inv": tuple(tuple(float(v) for v in r) for r in inv),
        }
    )
