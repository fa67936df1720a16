"""The HTML fleet report: one self-contained file from the devices, catalogue and samples.

``build_report(devices, catalogue, samples, *, start, end, tz, title)`` returns the document;
``write_report(path, devices, catalogue, samples, ...)`` writes it. ``analyse(...)`` gives the
same content as frames. With ``weather=`` (daily temperatures) the report adds a
weather-normalised year over year: the 365 local days before ``start`` against the period.
"""

from __future__ import annotations

from belimo_cloud.report.build import ReportData, analyse, build_report, write_report

__all__ = ["ReportData", "analyse", "build_report", "write_report"]
