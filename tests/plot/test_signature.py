"""Energy signature and cumulative savings figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from belimo_cloud.analysis.baseline import cumulative_savings, fit_baseline
from belimo_cloud.errors import DataError
from belimo_cloud.plot._figure import save
from belimo_cloud.plot.signature import cumulative_savings_plot, energy_signature


def _days(start: str, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=n, freq="D", tz="Europe/Zurich")
    t = 10 - 9 * np.cos(2 * np.pi * np.arange(n) / 365.25) + rng.normal(0, 2, n)
    energy = 5 + 8 * np.maximum(0, 15 - t) + rng.normal(0, 3, n)
    return pd.DataFrame({"temperature": t, "energy": energy}, index=index)


def test_signature_shows_days_and_model(tmp_path: Path) -> None:
    base, rep = _days("2017-01-01", 365, 1), _days("2018-01-01", 365, 2)
    model = fit_baseline(base)
    fig = energy_signature(base, model, reporting=rep, title="valve")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Daily mean outdoor temperature [°C]"
    assert ax.get_ylabel() == "Energy [kWh/day]"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["baseline days", "reporting days"]
    assert "below 15" in labels[2] or "below 14" in labels[2]
    line = ax.get_lines()[0]
    x, y = line.get_data()
    assert np.allclose(y, model.main.predict(np.asarray(x)))
    path = save(fig, tmp_path / "sig.svg")
    assert "<svg" in path.read_text()[:500]


def test_cumulative_savings_plot() -> None:
    base, rep = _days("2017-01-01", 365, 3), _days("2018-01-01", 200, 4)
    daily = cumulative_savings(fit_baseline(base), rep)
    fig = cumulative_savings_plot(daily, uncertainty=100.0)
    ax = fig.axes[0]
    _x, y = ax.get_lines()[0].get_data()
    assert np.allclose(np.asarray(y, dtype=float), daily["cumulative"].to_numpy())
    assert ax.get_ylabel() == "Cumulative savings [kWh]"
    with pytest.raises(DataError):
        cumulative_savings_plot(daily.iloc[0:0])
    with pytest.raises(DataError):
        energy_signature(base.iloc[0:0], fit_baseline(base))
