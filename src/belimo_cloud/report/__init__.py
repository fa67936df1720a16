"""The HTML fleet report: one self-contained file from the devices, catalogue and samples.

``build_report(devices, catalogue, samples, *, start, end, tz, title)`` returns the document;
``write_report(path, devices, catalogue, samples, ...)`` writes it. ``analyse(...)`` gives the
same content as frames. With ``weather=`` (daily temperatures) the report adds a
weather-normalised year over year: the 365 local days before ``start`` against the period.

From a store, without holding its samples: ``analyse_store(store, devices, ...)`` computes the
content a batch of whole devices at a time (``write_page`` writes it), and
``store_energy(store, ...)`` the energy per device and local period.
"""

from __future__ import annotations

from belimo_cloud.report.build import ReportData, analyse, build_report, write_page, write_report
from belimo_cloud.report.store_energy import StoreEnergy, store_energy
from belimo_cloud.report.store_report import analyse_store

__all__ = [
    "ReportData",
    "StoreEnergy",
    "analyse",
    "analyse_store",
    "build_report",
    "store_energy",
    "write_page",
    "write_report",
]
