"""The report's findings as page data: the dated key-findings list and the data-quality table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from belimo_cloud.report.format import duration, local_time, missing, utc_iso
from belimo_cloud.report.page import Cell, Finding, Row, Table, Text

if TYPE_CHECKING:
    from belimo_cloud.report.content import ReportData

__all__ = ["DIRECTION", "LABELS", "finding_items", "quality_blocks"]

#: Finding kinds -> what the report calls them.
LABELS = {
    "meter_replacement": "Meter replacement or counter reset",
    "glitch": "Glitch (reading ignored)",
    "spike": "Spike (reading excluded)",
    "jump": "Implausible jump (excluded)",
    "gap": "Gap (no data)",
    "outage": "Outage (meter read zero or nothing)",
    "rollover": "Counter rollover",
    "low_delta_t": "Low ΔT (low-dT syndrome)",
    "at_vmax": "Flow at Vmax",
    "offline": "Offline",
    "problem": "Problem",
}
DIRECTION = {"heating": "Heating energy", "cooling": "Cooling energy"}
_COUNTER_KIND = {"reset": "meter_replacement"}


def _text(value: Any) -> str:
    return "" if missing(value) else str(value)


def finding_items(data: ReportData) -> tuple[Finding, ...]:
    """Every finding of :attr:`ReportData.findings`, dated in the report's zone."""
    items = []
    for row in data.findings.to_dict("records"):
        kind = str(row["finding"])
        items.append(
            Finding(
                kind=kind,
                device_id=str(row["device_id"]),
                device=_text(row["display_name"]) or str(row["device_id"]),
                label=LABELS.get(kind, kind.replace("_", " ").capitalize()),
                counter=DIRECTION.get(_text(row["direction"]), ""),
                start=local_time(row["start"], data.tz),
                end=local_time(row["end"], data.tz),
                duration=duration(row["duration_h"]),
                start_utc=utc_iso(row["start"]),
                end_utc=utc_iso(row["end"]),
                detail=_text(row["detail"]),
                recommendation=_text(row["recommendation"]),
            )
        )
    return tuple(items)


def quality_blocks(data: ReportData) -> tuple[Text | Table, ...]:
    """The data-quality table: every counter finding with device, counter, dates and detail."""
    intro = Text(
        "What the counters needed: meter replacements and resets (counting continues from the "
        "new meter), glitches and spikes (a bad reading; excluded), outages (the meter read zero "
        "or nothing, then came back) and gaps (no data; the energy across them is kept)."
    )
    rows = []
    for r in data.events.to_dict("records"):
        kind = _COUNTER_KIND.get(str(r["kind"]), str(r["kind"]))
        rows.append(
            Row(
                cells=(
                    Cell(_text(r["display_name"])),
                    Cell(DIRECTION.get(_text(r["direction"]), "")),
                    Cell(LABELS.get(kind, kind)),
                    Cell(local_time(r["time"], data.tz)),
                    Cell(local_time(r["end"], data.tz)),
                    Cell(_text(r["detail"])),
                ),
                level="warn",
                attrs=(
                    ("kind", kind),
                    ("device", str(r["device_id"])),
                    ("start", utc_iso(r["time"])),
                ),
            )
        )
    table = Table(
        headings=tuple(Cell(h) for h in ("Device", "Counter", "Finding", "From", "To", "Detail")),
        rows=tuple(rows),
        empty="No resets, glitches, spikes, outages or gaps: the counters are clean.",
        name="quality",
    )
    return (intro, table)
