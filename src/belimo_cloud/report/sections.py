"""The report's page, laid out from :class:`~belimo_cloud.report.content.ReportData`.

Everything here is plain data (:mod:`.page`); the templates turn it into HTML. Heating and
cooling stay apart in every figure, table and ranking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from belimo_cloud.report.findings import DIRECTION, finding_items, quality_blocks
from belimo_cloud.report.format import (
    age,
    local_time,
    number,
    percent,
    period_label,
    png,
    utc_time,
)
from belimo_cloud.report.hydronics import hydronics_section
from belimo_cloud.report.page import (
    Block,
    Card,
    Cell,
    Figure,
    Heading,
    Page,
    Row,
    Section,
    Table,
    Text,
)
from belimo_cloud.report.weather_section import weather_section

if TYPE_CHECKING:
    from belimo_cloud.report.content import ReportData

__all__ = ["build_page"]

_FREQ_NAME = {"D": "day", "MS": "month", "YS": "year", "h": "hour", "W-MON": "week"}


def _heads(*names: str, numeric: tuple[str, ...] = ()) -> tuple[Cell, ...]:
    return tuple(Cell(n, numeric=n in numeric) for n in names)


def _directions(data: ReportData) -> list[str]:
    """The directions with energy rows, heating first."""
    if data.energy.empty:
        return []
    present = set(data.energy["direction"])
    return [d for d in ("heating", "cooling") if d in present]


def _cards(data: ReportData, findings: int, quality_rows: int) -> tuple[Card, ...]:
    s = data.summary
    cards = [
        Card(str(s["total"]), "devices", "devices"),
        Card(str(s["online"]), "online", "online"),
        Card(str(s["offline"]), "offline", "offline"),
        Card(str(s["problem"]), "with a problem", "problem"),
    ]
    for d in _directions(data):
        total = float(data.energy.loc[data.energy["direction"] == d, "consumption"].sum())
        cards.append(Card(f"{total:,.0f} kWh", f"{d} energy", f"{d}_energy"))
    cards.append(Card(str(findings), "findings", "findings"))
    cards.append(Card(str(quality_rows), "data-quality findings", "quality"))
    return tuple(cards)


def _figure(fig: Any, caption: str, alt: str) -> Figure:
    return Figure(png(fig), caption, alt)


def _fleet_section(data: ReportData, figures: bool) -> Section:
    blocks: list[Block] = [
        Text(
            f"Online means seen within the last hour of {local_time(data.now, data.tz)} "
            "(the latest lastSeen in the fleet)."
        )
    ]
    if figures:
        from belimo_cloud.plot import fleet_status

        blocks.append(_figure(fleet_status(data.summary), "Connectivity and health", "Fleet"))
    rows = []
    for r in data.problems.to_dict("records"):
        offline = "offline" in str(r["status"])
        rows.append(
            Row(
                cells=(
                    Cell(str(r["display_name"] or r["device_id"])),
                    Cell(str(r["status"]).replace(",", ", "), tag="bad" if offline else "warn"),
                    Cell(str(r["health_state"] or "")),
                    Cell(str(r["health_description"] or "")),
                    Cell(local_time(r["last_seen"], data.tz) or "never"),
                    Cell(age(r["last_seen_age_h"])),
                ),
                level="bad" if offline else "warn",
                attrs=(
                    ("kind", "offline" if offline else "problem"),
                    ("device", str(r["device_id"])),
                ),
            )
        )
    blocks.append(Heading("Offline and problem devices"))
    blocks.append(
        Table(
            _heads("Device", "Status", "Health", "Description", "Last seen", "Age"),
            tuple(rows),
            empty="Every device is online and healthy.",
            name="problems",
        )
    )
    return Section("fleet", "Fleet status", tuple(blocks))


def _period_table(data: ReportData, direction: str, unit: str) -> Table:
    per = data.periods[data.periods["direction"] == direction]
    rows = []
    for r in per.to_dict("records"):
        flagged = r["quality"] != "ok"
        quality = str(r["quality"])
        if flagged:
            quality += f" ({percent(r['flagged_share'])} of the energy)"
        rows.append(
            Row(
                cells=(
                    Cell(period_label(r["period"], data.freq)),
                    Cell(number(r["consumption"], 1), numeric=True),
                    Cell(str(r["devices"]), numeric=True),
                    Cell(percent(r["coverage"], 1), numeric=True),
                    Cell(quality, tag="warn" if flagged else ""),
                ),
                attrs=(("period", str(pd.Timestamp(r["period"]).isoformat())),),
            )
        )
    return Table(
        _heads(
            unit.capitalize(),
            "Energy [kWh]",
            "Devices",
            "Coverage",
            "Quality",
            numeric=("Energy [kWh]", "Devices", "Coverage"),
        ),
        tuple(rows),
        empty=f"No {direction} energy in the period.",
        name=f"periods-{direction}",
    )


def _ranking_table(data: ReportData, direction: str) -> Table:
    rank = data.ranking[data.ranking["direction"] == direction]
    rows = tuple(
        Row(
            cells=(
                Cell(str(r["rank"]), numeric=True),
                Cell(str(r["display_name"])),
                Cell(number(r["consumption"], 1), numeric=True),
                Cell(percent(r["share"], 1), numeric=True),
            ),
            attrs=(("device", str(r["device_id"])),),
        )
        for r in rank.to_dict("records")
    )
    return Table(
        _heads("#", "Device", "Energy [kWh]", "Share", numeric=("#", "Energy [kWh]", "Share")),
        rows,
        empty=f"No device used {direction} energy.",
        name=f"ranking-{direction}",
    )


def _energy_figures(data: ReportData, direction: str, unit: str) -> list[Block]:
    from belimo_cloud.plot import calendar_heatmap, consumption_bars, stacked_consumption

    what = DIRECTION[direction]
    per = data.periods[data.periods["direction"] == direction].set_index("period")
    rows = data.energy[data.energy["direction"] == direction]
    out: list[Block] = [
        _figure(
            consumption_bars(per, title=f"{what} of the fleet per {unit}"),
            f"{what} per {unit}; the share of a bar from flagged devices is coloured.",
            f"{what} per period",
        ),
        _figure(
            stacked_consumption(rows, data.status, title=f"{what} per {unit} by device"),
            "The largest consumers; the rest are summed.",
            f"{what} by device",
        ),
    ]
    from belimo_cloud.report.content import fleet_hourly

    fleet = data.fleet_hourly if data.fleet_hourly is not None else fleet_hourly(data.hourly)
    hourly = fleet[fleet["direction"] == direction]
    if not hourly.empty:
        total = hourly.set_index("period")["consumption"]
        out.append(
            _figure(
                calendar_heatmap(total, title=f"{what} per hour of day"),
                "When the fleet uses energy: hour of day against day, local time.",
                f"{what} calendar heatmap",
            )
        )
    return out


def _energy_section(data: ReportData, figures: bool) -> Section:
    unit = _FREQ_NAME.get(data.freq, "period")
    blocks: list[Block] = [
        Text(
            f"Energy per {unit} in local time ({data.tz}) from the lifetime counters "
            "(Heating_E_J, Cooling_E_J), heating and cooling apart (never added up): resets, "
            "glitches, spikes, outages and gaps are corrected and flagged, never negative. "
            "Coverage is the share of the period with data; a period's quality names each flag "
            "with the number of devices that carry it and their share of the energy."
        )
    ]
    directions = _directions(data)
    if not directions:
        blocks.append(Text("No energy counters in the selection.", muted=True))
        return Section("energy", "Consumption", tuple(blocks))
    for d in directions:
        blocks.append(Heading(f"{DIRECTION[d]} per {unit}"))
        if figures:
            blocks.extend(_energy_figures(data, d, unit))
        blocks.append(_period_table(data, d, unit))
        blocks.append(Heading(f"Devices by {d} energy"))
        blocks.append(_ranking_table(data, d))
    return Section("energy", "Consumption", tuple(blocks))


def _lead(data: ReportData) -> str:
    lo = local_time(data.start, data.tz) if data.start is not None else "the first sample"
    hi = local_time(data.end, data.tz) if data.end is not None else "the last sample"
    return (
        f"{lo} to {hi} · {data.summary['total']} devices · {data.samples_count:,} samples · "
        f"times in {data.tz}"
    )


def build_page(data: ReportData, *, figures: bool = True) -> Page:
    """The report's page: cards, dated findings and the five sections."""
    findings = finding_items(data)
    quality = quality_blocks(data)
    quality_rows = sum(len(b.rows) for b in quality if isinstance(b, Table))
    return Page(
        title=data.title,
        lead=_lead(data),
        cards=_cards(data, len(findings), quality_rows),
        findings=findings,
        sections=(
            _fleet_section(data, figures),
            _energy_section(data, figures),
            weather_section(data.weather, figures),
            Section("quality", "Data quality findings", quality),
            hydronics_section(data, figures),
        ),
        footer=(
            "Generated by belimo-cloud, an unofficial toolkit for the Belimo Cloud API, at "
            f"{utc_time(pd.Timestamp.now(tz='UTC'))}."
        ),
    )
