"""The report's hydronic section: low-dT and Vmax valves with their episodes, dT-flow, KPIs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from belimo_cloud.report.format import local_time, number, percent, png
from belimo_cloud.report.page import (
    Block,
    Cell,
    Details,
    Figure,
    Heading,
    Row,
    Section,
    Table,
    Text,
)

if TYPE_CHECKING:
    from belimo_cloud.report.content import ReportData

__all__ = ["hydronics_section"]


def _heads(*names: str, numeric: tuple[str, ...] = ()) -> tuple[Cell, ...]:
    return tuple(Cell(n, numeric=n in numeric) for n in names)


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
            Figure(
                png(fig),
                "Each dot is one sample, coloured by date; the line is the mean per 10 % of flow "
                "where there are samples; points in the shaded zone are low-ΔT hours.",
                f"dT against flow of {r['display_name']}",
            )
        )
    return out


def hydronics_section(data: ReportData, figures: bool) -> Section:
    """Low-dT and Vmax valves (each table its own rows, with dates), dT-flow figures, KPIs."""
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
