"""The HTML fleet report: one self-contained file from the devices, catalogue and samples.

``build_report(devices, catalogue, samples, *, start, end, tz, title)`` returns the document;
``write_report(path, devices, catalogue, samples, ...)`` writes it. ``analyse(...)`` gives the
same content as frames.
"""

from __future__ import annotations

from belimo_cloud.report.build import ReportData, analyse, build_report, write_report

__all__ = ["ReportData", "analyse", "build_report", "write_report"]
