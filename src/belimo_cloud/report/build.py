"""The fleet report: status, consumption, data quality and hydronic findings in one HTML file.

Three steps, each its own module: :func:`~.content.analyse` computes the content as frames,
:func:`~.sections.build_page` lays it out as plain page data, :func:`~.render.render_page`
renders the Jinja2 templates. ``build_report`` runs the three; ``write_report`` writes the
result to a file.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import pandas as pd

from belimo_cloud.analysis.engine import Duration
from belimo_cloud.analysis.policy import CounterPolicy
from belimo_cloud.report.content import ReportData, analyse
from belimo_cloud.report.render import render_page
from belimo_cloud.report.sections import build_page

__all__ = ["ReportData", "analyse", "build_report", "write_page", "write_report"]


def build_report(
    devices: pd.DataFrame,
    catalogue: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    start: Any = None,
    end: Any = None,
    tz: str | tzinfo = "Europe/Zurich",
    title: str | None = None,
    now: datetime | pd.Timestamp | None = None,
    freq: str | None = None,
    resolution: Duration = None,
    figures: bool = True,
    policy: CounterPolicy | None = None,
    weather: pd.Series[float] | pd.DataFrame | None = None,
    weather_site: str | None = None,
) -> str:
    """The report as one self-contained HTML document (figures inlined as PNG).

    ``devices``, ``catalogue`` and ``samples`` are the CONTRACTS.md frames; datapoints are
    found by ``default.name`` through the catalogue (``samples`` may carry an
    ``aggregation`` column: counters are then read from ``last`` rows, power, flow and
    temperatures from ``avg`` rows). ``start``/``end`` bound the period (naive values are
    local dates in ``tz``); ``freq`` is the consumption period (default: days up to two
    months, months up to three years, else years). ``figures=False`` leaves the figures out.
    ``weather`` (daily mean temperatures [degC] indexed by day, or a
    :func:`~belimo_cloud.analysis.weather.read_weather` frame with ``weather_site``) adds the
    section "Weather-normalised, year over year": the 365 local days before ``start``
    against the report's period, so ``samples`` then need the counters of that year too.
    """
    data = analyse(
        devices,
        catalogue,
        samples,
        start=start,
        end=end,
        tz=tz,
        title=title,
        now=now,
        freq=freq,
        resolution=resolution,
        policy=policy,
        weather=weather,
        weather_site=weather_site,
    )
    return render_page(build_page(data, figures=figures))


def write_report(
    path: str | Path,
    devices: pd.DataFrame,
    catalogue: pd.DataFrame,
    samples: pd.DataFrame,
    **options: Any,
) -> Path:
    """Write :func:`build_report` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    text = build_report(devices, catalogue, samples, **options)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def write_page(path: str | Path, data: ReportData, *, figures: bool = True) -> Path:
    """Write the report of content already analysed (e.g. batch by batch from a store)."""
    target = Path(path)
    text = render_page(build_page(data, figures=figures))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
