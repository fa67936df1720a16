"""The report's findings: the key-findings list and the data-quality table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from belimo_cloud.report.format import age, local_time, utc_time
from belimo_cloud.report.html import esc, table

if TYPE_CHECKING:
    from belimo_cloud.report.build import ReportData

__all__ = ["DIRECTION", "KIND_LABELS", "key_findings", "quality_section"]

#: Event kinds (analysis) -> what the report calls them, and the fault kind for data-kind.
KIND_LABELS = {
    "reset": ("Meter replacement or counter reset", "meter_replacement"),
    "glitch": ("Glitch (reading ignored)", "glitch"),
    "gap": ("Gap (no data)", "gap"),
    "jump": ("Implausible jump (excluded)", "jump"),
    "rollover": ("Counter rollover", "rollover"),
}
DIRECTION = {"heating": "Heating energy", "cooling": "Cooling energy"}


def key_findings(data: ReportData) -> str:
    """The bullet list of findings, one per fault, each with a ``data-kind``."""
    items: list[tuple[str, str]] = []
    seen: set[tuple[Any, str, str]] = set()
    ev = data.events
    if not ev.empty:
        # One line per device, finding and time: the counter with the larger change speaks.
        ev = ev.assign(_size=(ev["after"] - ev["before"]).abs().fillna(0.0))
        ev = ev.sort_values(["time", "_size"], ascending=[True, False], kind="stable")
    for _, row in ev.iterrows():
        key = (row["device_id"], row["kind"], utc_time(row["time"]))
        if key in seen:
            continue
        seen.add(key)
        label, kind = KIND_LABELS.get(row["kind"], (row["kind"], row["kind"]))
        name = esc(row["display_name"])
        when = esc(local_time(row["time"], data.tz))
        if row["kind"] == "gap":
            until = esc(local_time(row["end"], data.tz))
            text = f"<b>Gap</b> in the data of <b>{name}</b> from {when} to {until}: "
        else:
            what = esc(DIRECTION.get(row["direction"], ""))
            text = f"<b>{esc(label)}</b> on <b>{name}</b> ({what}) at {when}: "
        items.append((kind, text + esc(row["detail"]) + "."))
    valves = data.valves
    if not valves.empty:
        for _, row in valves[valves["low_dt"]].iterrows():
            items.append(
                (
                    "low_delta_t",
                    f"<b>Low ΔT (low-dT syndrome)</b> at <b>{esc(row['display_name'])}</b>: "
                    f"{row['low_dt_hours']:,.0f} h with ΔT under 80 % of the setpoint at high flow "
                    f"({row['low_dt_share']:.0%} of its high-flow hours; mean ΔT "
                    f"{row['mean_dt']:.1f} K against a setpoint of {row['mean_setpoint']:.1f} K).",
                )
            )
        for _, row in valves[valves["at_vmax"]].iterrows():
            items.append(
                (
                    "at_vmax",
                    f"<b>Flow at Vmax</b> at <b>{esc(row['display_name'])}</b>: "
                    f"{row['hours_at_vmax']:,.0f} h at or above 98 % of Vmax.",
                )
            )
    for _, row in data.problems.iterrows():
        name = esc(row["display_name"] or row["device_id"])
        if "offline" in row["status"]:
            items.append(
                (
                    "offline",
                    f"<b>Offline</b>: <b>{name}</b>, last seen "
                    f"{esc(local_time(row['last_seen'], data.tz)) or 'never'} "
                    f"({esc(age(row['last_seen_age_h']))} before the fleet's latest report).",
                )
            )
        if "problem" in row["status"]:
            desc = esc(row["health_description"] or "")
            items.append(
                (
                    "problem",
                    f"<b>Problem</b>: <b>{name}</b> reports {esc(row['health_state'])}"
                    + (f" ({desc})" if desc else "")
                    + ".",
                )
            )
    if not items:
        return '<p class="empty">No findings: every counter is clean and every device is well.</p>'
    lis = "".join(f'<li data-kind="{esc(kind)}">{text}</li>' for kind, text in items)
    return f"<ul>{lis}</ul>"


def quality_section(data: ReportData) -> str:
    """The data-quality table: every counter finding with device, time and detail."""
    out = ["<h2>Data quality findings</h2>"]
    out.append(
        "<p>What the counters needed: meter replacements and resets (counting continues from "
        "the new meter), glitches (a zero or missing reading that came back; ignored), gaps "
        "(no data; the increase is kept and given to the period where the gap ends) and "
        "implausible jumps (excluded).</p>"
    )
    ev = data.events.copy()
    if not ev.empty:
        ev["label"] = ev["kind"].map(lambda k: KIND_LABELS.get(k, (k, k))[0])
        ev["quantity"] = ev["direction"].map(DIRECTION)
    out.append(
        table(
            ev,
            [
                ("display_name", "Device"),
                ("quantity", "Counter"),
                ("label", "Finding"),
                ("time", "From"),
                ("end", "To"),
                ("detail", "Detail"),
            ],
            formats={
                "time": lambda v: esc(local_time(v, data.tz)),
                "end": lambda v: esc(local_time(v, data.tz)),
            },
            row_attrs=lambda r: {
                "data-kind": KIND_LABELS.get(r["kind"], (r["kind"], r["kind"]))[1],
                "data-device": str(r["device_id"]),
                "data-time": utc_time(r["time"]),
            },
            row_class=lambda r: "warn",
            empty="No resets, glitches, gaps or jumps: the counters are clean.",
        )
    )
    return "".join(out)
