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
from belimo_cloud.report.page import (
    Block,
    Card,
    Cell,
    Details,
    Figure,
    Heading,
    Page,
    Row,
    Section,
    Table,
    Text,
)

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
    hourly = data.hourly[data.hourly["direction"] == direction]
    if not hourly.empty:
        total = hourly.groupby("period", sort=True)["consumption"].sum()
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


def _episode_dates(data: ReportData, device_id: Any, finding: str) -> str:
    f = data.findings
    mine = f[(f["device_id"] == device_id) & (f["finding"] == finding)]
    if mine.empty:
        return ""
    first, last = mine["start"].min(), mine["end"].max()
    n = len(mine)
    span = f"{local_time(first, data.tz)} to {local_time(last, data.tz)}"
    return span if n == 1 else f"{n} episodes, {span}"


def _valve_tables(data: ReportData) -> list[Block]:
    v = data.valves
    low_rows = tuple(
        Row(
            cells=(
                Cell(str(r["display_name"])),
                Cell(str(r["kind"])),
                Cell(number(r["mean_dt"], 1), numeric=True),
                Cell(number(r["mean_setpoint"], 1), numeric=True),
                Cell(number(r["low_dt_hours"]), numeric=True),
                Cell(percent(r["low_dt_share"]), numeric=True),
                Cell(_episode_dates(data, r["device_id"], "low_delta_t")),
            ),
            level="bad",
            attrs=(("kind", "low_delta_t"), ("device", str(r["device_id"]))),
        )
        for r in v[v["low_dt"]].to_dict("records")
    )
    vmax_rows = tuple(
        Row(
            cells=(
                Cell(str(r["display_name"])),
                Cell(str(r["kind"])),
                Cell(number(r["hours_at_vmax"]), numeric=True),
                Cell(percent(r["vmax_share"]), numeric=True),
                Cell(number(r["max_flow"]), numeric=True),
                Cell(_episode_dates(data, r["device_id"], "at_vmax")),
            ),
            level="warn",
            attrs=(("kind", "at_vmax"), ("device", str(r["device_id"]))),
        )
        for r in v[v["at_vmax"]].to_dict("records")
    )
    num_low = ("Mean ΔT [K]", "Setpoint [K]", "Low-ΔT hours", "Share of high-flow hours")
    num_vmax = ("Hours at Vmax", "Share of flow hours", "Max flow [%]")
    return [
        Heading("Low-ΔT valves"),
        Table(
            _heads("Valve", "Kind", *num_low, "When", numeric=num_low),
            low_rows,
            empty="No valve runs at low ΔT.",
            name="low-dt",
        ),
        Heading("Valves at Vmax"),
        Table(
            _heads("Valve", "Kind", *num_vmax, "When", numeric=num_vmax),
            vmax_rows,
            empty="No valve is pinned at Vmax.",
            name="vmax",
        ),
    ]


def _all_valves(data: ReportData) -> Details:
    nums = (
        "Mean ΔT [K]",
        "Setpoint [K]",
        "Low-ΔT hours",
        "Hours at Vmax",
        "Max flow [%]",
        "Power check [%]",
        "Energy check [%]",
    )
    rows = tuple(
        Row(
            cells=(
                Cell(str(r["display_name"])),
                Cell(str(r["kind"])),
                Cell(number(r["mean_dt"], 1), numeric=True),
                Cell(number(r["mean_setpoint"], 1), numeric=True),
                Cell(number(r["low_dt_hours"]), numeric=True),
                Cell(number(r["hours_at_vmax"]), numeric=True),
                Cell(number(r["max_flow"]), numeric=True),
                Cell(number(r["power_mismatch_pct"], 1), numeric=True),
                Cell(number(r["energy_mismatch_pct"], 1), numeric=True),
                Cell(str(r["power_basis"])),
            ),
            attrs=(("device", str(r["device_id"])),),
        )
        for r in data.valves.to_dict("records")
    )
    table = Table(_heads("Valve", "Kind", *nums, "Power from", numeric=nums), rows, name="valves")
    note = Text(
        "Power check: ρ·cp·flow·ΔT against the reported power; energy check: the integral of "
        "the reported average power (hourly avg buckets where available; 'Power from' says "
        "which) against the counter's increase. Both as % deviation: a plausibility score "
        "(glycol lowers cp).",
        muted=True,
    )
    return Details("All valves: ΔT, Vmax and power plausibility", (table, note))


def _dt_figures(data: ReportData) -> list[Block]:
    from belimo_cloud.analysis.fleet import series_of
    from belimo_cloud.plot import dt_vs_flow

    v = data.valves
    out: list[Block] = []
    for r in v[v["low_dt"] | v["at_vmax"]].head(3).to_dict("records"):
        dev = r["device_id"]
        named = data.named
        if "aggregation" in named.columns:
            avg = named[named["aggregation"].astype(str) == "avg"]
            named = avg if not avg.empty else named
        dt = _window(series_of(named, dev, "DeltaT_K"), data)
        rel = _window(series_of(named, dev, "RelFlow_Fb_Rel2Vmax"), data)
        sp = _window(series_of(named, dev, "SpDeltaT_applied_K"), data)
        fig = dt_vs_flow(dt, rel, setpoint=sp, title=f"ΔT against flow: {r['display_name']}")
        out.append(
            _figure(
                fig,
                "Each dot is one sample, coloured by date; the line is the mean per 10 % of flow "
                "where there are samples; points in the shaded zone are low-ΔT hours.",
                f"dT against flow of {r['display_name']}",
            )
        )
    return out


def _hydronics_section(data: ReportData, figures: bool) -> Section:
    if data.valves.empty:
        return Section(
            "hydronics", "Hydronic findings", (Text("No flow data in the selection.", muted=True),)
        )
    blocks: list[Block] = [
        Text(
            "Low ΔT (low-dT syndrome): hours with ΔT under 80 % of the setpoint while the "
            "relative flow is above 50 %. Vmax: hours at or above 98 % of the configured maximum "
            "flow. Each table lists only its own valves; the dates are the episodes in the "
            "key findings."
        ),
        *_valve_tables(data),
    ]
    if figures:
        blocks.extend(_dt_figures(data))
    blocks.append(_all_valves(data))
    return Section("hydronics", "Hydronic findings", tuple(blocks))


def _window(s: pd.Series[float], data: ReportData) -> pd.Series[float]:
    if data.start is not None:
        s = s[s.index >= data.start]
    if data.end is not None:
        s = s[s.index < data.end]
    return s


def _lead(data: ReportData) -> str:
    lo = local_time(data.start, data.tz) if data.start is not None else "the first sample"
    hi = local_time(data.end, data.tz) if data.end is not None else "the last sample"
    return (
        f"{lo} to {hi} · {data.summary['total']} devices · {data.samples_count:,} samples · "
        f"times in {data.tz}"
    )


def build_page(data: ReportData, *, figures: bool = True) -> Page:
    """The report's page: cards, dated findings and the four sections."""
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
            Section("quality", "Data quality findings", quality),
            _hydronics_section(data, figures),
        ),
        footer=(
            "Generated by belimo-cloud, an unofficial toolkit for the Belimo Cloud API, at "
            f"{utc_time(pd.Timestamp.now(tz='UTC'))}."
        ),
    )
