"""Rendering of the report's sections from :class:`~belimo_cloud.report.build.ReportData`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from belimo_cloud.report.findings import key_findings, quality_section
from belimo_cloud.report.format import age, local_time, number, png, tag, utc_time
from belimo_cloud.report.html import esc, figure, page, table

if TYPE_CHECKING:
    from belimo_cloud.report.build import ReportData

__all__ = ["render"]

_FREQ_NAME = {"D": "day", "MS": "month", "YS": "year", "h": "hour", "W-MON": "week"}


def _period_text(data: ReportData) -> str:
    lo = local_time(data.start, data.tz) if data.start is not None else "the first sample"
    hi = local_time(data.end, data.tz) if data.end is not None else "the last sample"
    return f"{lo} to {hi}"


def _cards(data: ReportData) -> str:
    s = data.summary
    heat = float(data.split["heating"].sum()) if not data.split.empty else 0.0
    cool = float(data.split["cooling"].sum()) if not data.split.empty else 0.0
    cards = [
        (str(s["total"]), "devices"),
        (str(s["online"]), "online"),
        (str(s["offline"]), "offline"),
        (str(s["problem"]), "with a problem"),
        (f"{heat:,.0f} kWh", "heating energy"),
        (f"{cool:,.0f} kWh", "cooling energy"),
        (str(len(data.events)), "data-quality findings"),
    ]
    inner = "".join(
        f'<div class="card"><div class="value">{esc(v)}</div>'
        f'<div class="label">{esc(k)}</div></div>'
        for v, k in cards
    )
    return f'<div class="cards">{inner}</div>'


def _fleet_section(data: ReportData, figures: bool) -> str:
    out = ["<h2>Fleet status</h2>"]
    out.append(
        f"<p>Online means seen within the last hour of {esc(local_time(data.now, data.tz))} "
        "(the latest lastSeen in the fleet).</p>"
    )
    if figures:
        from belimo_cloud.plot import fleet_status

        out.append(
            figure(png(fleet_status(data.summary)), "Connectivity and health", "Fleet status")
        )
    out.append("<h3>Offline and problem devices</h3>")
    out.append(
        table(
            data.problems,
            [
                ("display_name", "Device"),
                ("status", "Status"),
                ("health_state", "Health"),
                ("health_description", "Description"),
                ("last_seen", "Last seen"),
                ("last_seen_age_h", "Age"),
            ],
            formats={
                "status": lambda v: " ".join(
                    tag(p, "bad" if p == "offline" else "warn") for p in str(v).split(",")
                ),
                "last_seen": lambda v: esc(local_time(v, data.tz)) or "never",
                "last_seen_age_h": lambda v: esc(age(v)),
            },
            row_class=lambda r: "bad" if "offline" in r["status"] else "warn",
            row_attrs=lambda r: {
                "data-kind": "offline" if "offline" in r["status"] else "problem",
                "data-device": str(r["device_id"]),
            },
            empty="Every device is online and healthy.",
        )
    )
    return "".join(out)


def _energy_section(data: ReportData, figures: bool) -> str:
    unit = _FREQ_NAME.get(data.freq, "period")
    out = ["<h2>Consumption</h2>"]
    out.append(
        f"<p>Energy per {unit} in local time ({esc(str(data.tz))}) from the lifetime counters "
        "(Heating_E_J, Cooling_E_J): resets, glitches and gaps are corrected and flagged, never "
        "negative. <i>coverage</i> is the share of the period with data.</p>"
    )
    if data.energy.empty:
        out.append('<p class="empty">No energy counters in the selection.</p>')
        return "".join(out)
    from belimo_cloud.report.build import combine_periods

    total = combine_periods(data.energy)
    if figures:
        from belimo_cloud.plot import calendar_heatmap, consumption_bars, stacked_consumption

        out.append(
            figure(
                png(
                    consumption_bars(
                        total, title=f"Fleet consumption per {unit} (heating + cooling)"
                    )
                ),
                f"Heating and cooling energy of all valves per {unit}; flagged periods stand out.",
                "Consumption per period",
            )
        )
        out.append(
            figure(
                png(
                    stacked_consumption(
                        data.energy, data.status, title=f"Consumption per {unit} by device"
                    )
                ),
                "The largest consumers; the rest are summed.",
                "Consumption by device",
            )
        )
        if not data.hourly.empty:
            out.append(
                figure(
                    png(calendar_heatmap(data.hourly, title="Fleet energy per hour of day")),
                    "When the fleet uses energy: hour of day against day, local time.",
                    "Calendar heatmap",
                )
            )
    split = data.split.copy()
    split["quality"] = total["quality"]
    split = split.reset_index()
    out.append(f"<h3>Fleet total per {unit}</h3>")
    out.append(
        table(
            split,
            [
                ("period", unit.capitalize()),
                ("heating", "Heating [kWh]"),
                ("cooling", "Cooling [kWh]"),
                ("total", "Total [kWh]"),
                ("quality", "Quality"),
            ],
            formats={
                "period": lambda v: esc(pd.Timestamp(v).strftime("%Y-%m-%d")),
                "heating": number(1),
                "cooling": number(1),
                "total": number(1),
                "quality": lambda v: esc(v) if v == "ok" else tag(str(v), "warn"),
            },
            numeric=("heating", "cooling", "total"),
        )
    )
    out.append("<h3>Devices by consumption</h3>")
    out.append(
        table(
            data.ranking,
            [
                ("rank", "#"),
                ("display_name", "Device"),
                ("heating", "Heating [kWh]"),
                ("cooling", "Cooling [kWh]"),
                ("total", "Total [kWh]"),
                ("share", "Share"),
            ],
            formats={
                "heating": number(1),
                "cooling": number(1),
                "total": number(1),
                "share": lambda v: f"{float(v):.1%}",
            },
            numeric=("rank", "heating", "cooling", "total", "share"),
        )
    )
    return "".join(out)


def _hydronics_section(data: ReportData, figures: bool) -> str:
    out = ["<h2>Hydronic findings</h2>"]
    v = data.valves
    if v.empty:
        out.append('<p class="empty">No flow data in the selection.</p>')
        return "".join(out)
    out.append(
        "<p>Low ΔT (low-dT syndrome): hours with ΔT under 80 % of the setpoint while the "
        "relative flow is above 50 % (only with real flow, above 5 %). Vmax: hours at or above "
        "98 % of the configured maximum flow.</p>"
    )
    cols = [
        ("display_name", "Valve"),
        ("kind", "Kind"),
        ("mean_dt", "Mean ΔT [K]"),
        ("mean_setpoint", "Setpoint [K]"),
        ("low_dt_hours", "Low-ΔT hours"),
        ("low_dt_share", "Share of high-flow hours"),
        ("hours_at_vmax", "Hours at Vmax"),
        ("max_flow", "Max flow [%]"),
    ]
    fmts = {
        "mean_dt": number(1),
        "mean_setpoint": number(1),
        "low_dt_hours": number(0),
        "low_dt_share": lambda x: f"{float(x):.0%}" if np.isfinite(float(x)) else "",
        "hours_at_vmax": number(0),
        "max_flow": number(0),
        "power_mismatch_pct": number(1),
        "energy_mismatch_pct": number(1),
    }
    num = [c for c, _ in cols[2:]]
    out.append("<h3>Low-ΔT valves</h3>")
    out.append(
        table(
            v[v["low_dt"]],
            cols,
            formats=fmts,
            numeric=num,
            row_class=lambda r: "bad",
            row_attrs=lambda r: {"data-kind": "low_delta_t", "data-device": str(r["device_id"])},
            empty="No valve runs at low ΔT.",
        )
    )
    out.append("<h3>Valves at Vmax</h3>")
    out.append(
        table(
            v[v["at_vmax"]],
            cols,
            formats=fmts,
            numeric=num,
            row_class=lambda r: "warn",
            row_attrs=lambda r: {"data-kind": "at_vmax", "data-device": str(r["device_id"])},
            empty="No valve is pinned at Vmax.",
        )
    )
    if figures:
        from belimo_cloud.analysis.fleet import series_of
        from belimo_cloud.plot import dt_vs_flow

        for _, row in v[v["low_dt"] | v["at_vmax"]].head(3).iterrows():
            dev = row["device_id"]
            dt = _window(series_of(data.named, dev, "DeltaT_K"), data)
            rel = _window(series_of(data.named, dev, "RelFlow_Fb_Rel2Vmax"), data)
            sp = _window(series_of(data.named, dev, "SpDeltaT_applied_K"), data)
            fig = dt_vs_flow(dt, rel, setpoint=sp, title=f"ΔT against flow: {row['display_name']}")
            out.append(
                figure(
                    png(fig),
                    "Each dot is one sample; points in the shaded zone are low-ΔT hours.",
                    f"dT against flow of {row['display_name']}",
                )
            )
    out.append("<details><summary>All valves: ΔT, Vmax and power plausibility</summary>")
    out.append(
        table(
            v,
            [
                *cols,
                ("power_mismatch_pct", "Power check [%]"),
                ("energy_mismatch_pct", "Energy check [%]"),
            ],
            formats=fmts,
            numeric=[*num, "power_mismatch_pct", "energy_mismatch_pct"],
        )
    )
    out.append(
        "<p>Power check: ρ·cp·flow·ΔT against the reported power; energy check: the integral "
        "of the reported power against the counter's increase (both as % deviation; a "
        "plausibility score, glycol lowers cp).</p></details>"
    )
    return "".join(out)


def _window(s: pd.Series[float], data: ReportData) -> pd.Series[float]:
    if data.start is not None:
        s = s[s.index >= data.start]
    if data.end is not None:
        s = s[s.index < data.end]
    return s


def render(data: ReportData, *, figures: bool = True) -> str:
    """The whole HTML document."""
    body = [
        f"<h1>{esc(data.title)}</h1>",
        f'<p class="lead">{esc(_period_text(data))} · {data.summary["total"]} devices · '
        f"{data.samples_count:,} samples · times in {esc(str(data.tz))}</p>",
        _cards(data),
        "<h2>Key findings</h2>",
        key_findings(data),
        _fleet_section(data, figures),
        _energy_section(data, figures),
        quality_section(data),
        _hydronics_section(data, figures),
        "<footer>Generated by belimo-cloud, an unofficial toolkit for the Belimo Cloud API. "
        f"Generated at {esc(utc_time(pd.Timestamp.now(tz='UTC')))}.</footer>",
    ]
    return page(data.title, "".join(body))
